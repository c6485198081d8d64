import { Agent, type Dispatcher } from 'undici'
import type { TimeoutsConfig, UpstreamConfig } from '../config/types.js'
import { buildUpstreamCa } from './tls/upstream-trust.js'

/**
 * Pooled keep-alive connections to upstreams. One undici Agent serves every host trusted by the
 * system roots; a host with its own CA gets its own Agent whose trust is the system roots plus
 * that CA, so the extra CA can never vouch for any other host.
 */
export class UpstreamPool {
  #timeouts: TimeoutsConfig
  #default: Agent
  #byHost = new Map<string, Agent>()

  constructor(timeouts: TimeoutsConfig, upstreams: UpstreamConfig[]) {
    this.#timeouts = timeouts
    this.#default = this.#createAgent(null)
    this.configure(upstreams)
  }

  /** Applies a (re)loaded upstream list. Agents for hosts whose CA changed are replaced. */
  configure(upstreams: UpstreamConfig[]): void {
    const old = this.#byHost
    this.#byHost = new Map()
    for (const upstream of upstreams) {
      if (upstream.caPem) this.#byHost.set(upstream.host, this.#createAgent(upstream.caPem))
    }
    for (const agent of old.values()) void agent.close().catch(() => undefined)
  }

  dispatcherFor(host: string): Dispatcher {
    return this.#byHost.get(host) ?? this.#default
  }

  get timeouts(): TimeoutsConfig {
    return this.#timeouts
  }

  async close(): Promise<void> {
    const agents = [this.#default, ...this.#byHost.values()]
    await Promise.allSettled(agents.map((a) => a.close()))
  }

  #createAgent(caPem: string | null): Agent {
    return new Agent({
      connect: {
        timeout: this.#timeouts.connectMs,
        rejectUnauthorized: true,
        ...(caPem ? { ca: buildUpstreamCa([caPem]) } : {}),
      },
      headersTimeout: this.#timeouts.headersMs,
      bodyTimeout: this.#timeouts.bodyMs,
      keepAliveTimeout: 30_000,
      connections: 256,
      pipelining: 1,
    })
  }
}
