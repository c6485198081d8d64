import type { RuleConfig, RuleEffect, Scheme } from '../config/types.js'
import { AddressAllowance } from '../relay/destination/allowance.js'
import { ANY_PATH_GLOB, compilePathGlob, type PathMatcher } from './glob.js'
import { hostMatches } from './host-pattern.js'
import { defaultPort, type Decision, type RequestTarget, type RuleRef } from './request-target.js'

/**
 * One rule, compiled for the request path: sets instead of arrays, globs turned into matchers,
 * and the decision it produces built once. The host is not checked by `matches`: the policy's
 * host index already picked the rule by host.
 */
export class CompiledRule {
  readonly ref: RuleRef
  readonly effect: RuleEffect
  /** Position of the rule in its policy; when several rules match, the lowest decides. */
  readonly order: number
  readonly hosts: readonly string[]
  readonly credential: string | null
  /** Every method and every path: a deny rule like this closes the whole host. */
  readonly coversAllRequests: boolean
  /** An opaque-tunnel rule: it allows raw CONNECT tunnels only, never an HTTP request. */
  readonly opaque: boolean
  /**
   * The decision this rule makes on its own, frozen and shared between calls so deciding does
   * not allocate; callers must treat decisions as read-only.
   */
  readonly decision: Decision

  readonly #schemes: ReadonlySet<Scheme> | null
  readonly #ports: ReadonlySet<number> | null
  readonly #methods: ReadonlySet<string> | null
  readonly #paths: readonly PathMatcher[] | null

  constructor(policy: string, rule: RuleConfig, order: number) {
    this.ref = Object.freeze({ policy, rule: rule.name, id: `${policy}/${rule.name}` })
    this.effect = rule.effect
    this.order = order
    // Targets are canonical (lower-case host, upper-case method); folding the rule's side too
    // means a hand-built config with `delete` or `API.x.com` cannot silently miss a deny.
    this.hosts = Object.freeze(rule.hosts.map((host) => host.toLowerCase()))
    this.credential = rule.credential

    this.#schemes = rule.schemes.length === 0 ? null : new Set(rule.schemes)
    this.#ports = rule.ports.length === 0 ? null : new Set(rule.ports)
    this.#methods = rule.methods.length === 0 ? null : new Set(rule.methods.map(upperCase))
    this.#paths = compilePaths(rule.paths)

    this.coversAllRequests = this.#methods === null && this.#paths === null
    this.opaque = rule.tunnel === 'opaque'
    this.decision = buildDecision(this.ref, rule)
  }

  /** Whether the rule matches the target, host aside (the index matched it already). */
  matches(target: RequestTarget): boolean {
    if (!this.matchesEndpoint(target.scheme, target.port)) return false
    if (this.#methods !== null && !this.#methods.has(target.method)) return false
    return this.#paths === null || anyPathMatches(this.#paths, target.path)
  }

  /** Whether the rule applies to this scheme and port; no ports listed means the default one. */
  matchesEndpoint(scheme: Scheme, port: number): boolean {
    if (this.#schemes !== null && !this.#schemes.has(scheme)) return false
    return this.#ports === null ? port === defaultPort(scheme) : this.#ports.has(port)
  }

  /** Whether an opaque-tunnel rule lists this port (it always lists its ports). */
  allowsTunnelTo(port: number): boolean {
    return this.opaque && this.#ports !== null && this.#ports.has(port)
  }

  /**
   * Whether this deny rule shuts a raw tunnel to `port`: it covers every path, every method or
   * CONNECT, and the port (listed, or the default port of one of its schemes).
   */
  deniesTunnelTo(port: number): boolean {
    if (this.#paths !== null) return false
    if (this.#methods !== null && !this.#methods.has('CONNECT')) return false
    if (this.#ports !== null) return this.#ports.has(port)

    const schemes = this.#schemes ?? ANY_SCHEME
    for (const scheme of schemes) if (defaultPort(scheme) === port) return true
    return false
  }

  /** Whether one of the rule's host patterns matches; a linear check for explain and tests. */
  matchesHost(host: string): boolean {
    return this.hosts.some((pattern) => hostMatches(pattern, host))
  }
}

const ANY_SCHEME: readonly Scheme[] = ['http', 'https']

function upperCase(method: string): string {
  return method.toUpperCase()
}

/** Null stands for "any path": no paths listed, or a glob that matches everything. */
function compilePaths(paths: readonly string[]): PathMatcher[] | null {
  if (paths.length === 0 || paths.includes(ANY_PATH_GLOB)) return null
  return paths.map(compilePathGlob)
}

// A loop rather than `some` with an arrow: no closure is created per decision.
function anyPathMatches(matchers: readonly PathMatcher[], path: string): boolean {
  for (const matches of matchers) {
    if (matches(path)) return true
  }
  return false
}

function buildDecision(ref: RuleRef, rule: RuleConfig): Decision {
  if (rule.effect === 'deny') {
    return Object.freeze({
      kind: 'deny',
      code: 'TOLLGATE_POLICY_DENIED',
      rule: ref,
      credential: null,
      websocket: false,
      allowPlaintextCredential: false,
    })
  }

  const addresses = AddressAllowance.fromRule(rule.hosts, rule.addresses ?? [])
  return Object.freeze({
    kind: 'allow',
    code: null,
    rule: ref,
    credential: rule.credential,
    websocket: rule.websocket,
    allowPlaintextCredential: rule.allowPlaintextCredential,
    ...(addresses === null ? {} : { addresses }),
  })
}
