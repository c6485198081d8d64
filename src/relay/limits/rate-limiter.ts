import type { RateLimitConfig, TollgateConfig } from '../../config/types.js'

/** One agent's token bucket, and the configuration its rate was read from. */
interface Bucket {
  tokens: number
  /** When `tokens` was last brought up to date, in milliseconds. */
  at: number
  rate: RateLimitConfig | null
  config: TollgateConfig
}

/**
 * Per-agent request rates as token buckets: an agent may send `burst` requests at once, then
 * `requestsPerSecond` on average. It sits on the request path, so a request costs one map
 * lookup and a little arithmetic; buckets are created once per agent and re-read only when the
 * configuration object changes (a reload).
 */
export class AgentRateLimiter {
  #buckets = new Map<string, Bucket>()
  #config: () => TollgateConfig
  #now: () => number

  /**
   * @param config the current configuration (`server.limits.rate`, `agents[].rate`).
   * @param now a clock in milliseconds; tests pass their own.
   */
  constructor(config: () => TollgateConfig, now: () => number = () => performance.now()) {
    this.#config = config
    this.#now = now
  }

  /**
   * Takes one request from the agent's bucket. Returns 0 when the request may go, otherwise
   * how many whole seconds until one would (at least 1), for `Retry-After`.
   */
  take(agent: string): number {
    const config = this.#config()
    let bucket = this.#buckets.get(agent)
    if (bucket?.config !== config) bucket = this.#reread(agent, config, bucket)
    const { rate } = bucket
    if (rate === null) return 0

    const now = this.#now()
    const refill = ((now - bucket.at) / 1000) * rate.requestsPerSecond
    bucket.tokens = Math.min(rate.burst, bucket.tokens + refill)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate.requestsPerSecond))
  }

  /**
   * Reads the agent's rate from a new configuration. Tokens already spent stay spent (a reload
   * must not hand out a fresh burst), capped by the new burst.
   */
  #reread(agent: string, config: TollgateConfig, old: Bucket | undefined): Bucket {
    const own = config.agents.find((a) => a.name === agent)?.rate
    const rate = own ?? config.server.limits.rate
    const tokens = old?.rate ? old.tokens : (rate?.burst ?? 0)
    const bucket: Bucket = {
      tokens: Math.min(tokens, rate?.burst ?? 0),
      at: old?.at ?? this.#now(),
      rate,
      config,
    }
    this.#buckets.set(agent, bucket)
    return bucket
  }
}
