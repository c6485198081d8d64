import type { Scheme } from '../config/types.js'
import type { AddressAllowance } from '../relay/destination/allowance.js'

/**
 * The one canonical form of a request that policy is decided on: host in lower case without a
 * trailing dot (IPv6 without brackets), an explicit port, an upper-case method and a normalised
 * path without the query. The relay forwards exactly this target, so what was decided is what
 * leaves.
 */
export interface RequestTarget {
  scheme: Scheme
  host: string
  port: number
  method: string
  /** Normalised path, always starting with `/`, without query string. */
  path: string
}

export type DecisionKind = 'allow' | 'deny' | 'would_deny'

export interface RuleRef {
  policy: string
  rule: string
  /** `policy/rule`, as shown in responses, logs and audit events. */
  id: string
}

/**
 * The outcome of deciding one request. `would_deny` is forwarded (a report-mode policy would
 * have denied it) and recorded as such.
 */
export interface Decision {
  kind: DecisionKind
  /** Set when `kind` is `deny`: TOLLGATE_POLICY_DENIED or TOLLGATE_POLICY_NO_MATCH. */
  code: 'TOLLGATE_POLICY_DENIED' | 'TOLLGATE_POLICY_NO_MATCH' | null
  /** The rule that decided: the deny rule, or the allow rule; null when no rule matched. */
  rule: RuleRef | null
  /** For allowed requests: the credential to inject (from the allowing rule), if any. */
  credential: string | null
  /** For allowed requests: whether the allowing rule lets a WebSocket upgrade pass. */
  websocket: boolean
  /** For allowed requests: whether the credential may be injected over plain HTTP. */
  allowPlaintextCredential: boolean
  /**
   * For allowed requests: the non-public addresses the allowing rule lets the relay connect to
   * (its `addresses` ranges and IP-literal hosts). Absent: public addresses only.
   */
  addresses?: AddressAllowance
}

export function defaultPort(scheme: Scheme): number {
  return scheme === 'https' ? 443 : 80
}
