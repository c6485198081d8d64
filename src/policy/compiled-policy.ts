import type { PolicyConfig, PolicyMode, Scheme } from '../config/types.js'
import { CompiledRule } from './compiled-rule.js'
import { HostIndex, type HostKeys } from './host-index.js'
import type { RequestTarget } from './request-target.js'

/** What `mayConnect` asks each rule: the tunnel's scheme and port (the index did the host). */
interface Endpoint {
  scheme: Scheme
  port: number
}

/**
 * One policy compiled for the request path: its deny rules and its allow rules each in their
 * own host index, so "is there a matching deny" and "which allow comes first" are two lookups.
 */
export class CompiledPolicy {
  readonly name: string
  readonly mode: PolicyMode
  /** Every rule in declaration order, for explain and linear checks. */
  readonly rules: readonly CompiledRule[]

  readonly #denies = new HostIndex()
  readonly #allows = new HostIndex()
  /** Opaque-tunnel rules live apart: they must never answer an HTTP request or `mayAllow`. */
  readonly #opaque = new HostIndex()

  constructor(config: PolicyConfig) {
    this.name = config.name
    this.mode = config.mode
    this.rules = config.rules.map((rule, order) => new CompiledRule(config.name, rule, order))

    for (const rule of this.rules) this.#indexFor(rule).add(rule)
  }

  #indexFor(rule: CompiledRule): HostIndex {
    if (rule.effect === 'deny') return this.#denies
    return rule.opaque ? this.#opaque : this.#allows
  }

  /** The first deny rule (in declaration order) that matches the target; `host` is its host. */
  firstDeny(host: HostKeys, target: RequestTarget): CompiledRule | null {
    return this.#denies.first(host, matchesTarget, target)
  }

  /** The first allow rule (in declaration order) that matches the target; `host` is its host. */
  firstAllow(host: HostKeys, target: RequestTarget): CompiledRule | null {
    return this.#allows.first(host, matchesTarget, target)
  }

  /** Whether some allow rule could let a request through to this host and endpoint. */
  mayAllow(host: HostKeys, endpoint: Endpoint): boolean {
    return this.firstAllowFor(host, endpoint) !== null
  }

  /** The first allow rule for this host and endpoint, whatever its methods and paths. */
  firstAllowFor(host: HostKeys, endpoint: Endpoint): CompiledRule | null {
    return this.#allows.first(host, matchesEndpoint, endpoint)
  }

  /** The first opaque-tunnel rule allowing a raw tunnel to this host and port. */
  firstOpaque(host: HostKeys, port: number): CompiledRule | null {
    return this.#opaque.first(host, allowsTunnel, port)
  }

  /** The first deny rule that shuts a raw tunnel to this host and port. */
  firstTunnelDeny(host: HostKeys, port: number): CompiledRule | null {
    return this.#denies.first(host, deniesTunnel, port)
  }

  /** Whether a deny rule shuts every method and path on this host and endpoint. */
  deniesWholeHost(host: HostKeys, endpoint: Endpoint): boolean {
    return this.#denies.first(host, deniesEverything, endpoint) !== null
  }
}

function matchesTarget(rule: CompiledRule, target: RequestTarget): boolean {
  return rule.matches(target)
}

function matchesEndpoint(rule: CompiledRule, endpoint: Endpoint): boolean {
  return rule.matchesEndpoint(endpoint.scheme, endpoint.port)
}

function deniesEverything(rule: CompiledRule, endpoint: Endpoint): boolean {
  return rule.coversAllRequests && matchesEndpoint(rule, endpoint)
}

function allowsTunnel(rule: CompiledRule, port: number): boolean {
  return rule.allowsTunnelTo(port)
}

function deniesTunnel(rule: CompiledRule, port: number): boolean {
  return rule.deniesTunnelTo(port)
}
