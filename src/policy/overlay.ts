import { evaluate } from './agent-decision.js'
import type { CompiledPolicy } from './compiled-policy.js'
import type { CompiledRule } from './compiled-rule.js'
import type { HostKeys } from './host-index.js'
import type { Decision, RequestTarget, RuleRef } from './request-target.js'

/**
 * A sandbox's policy overlay, resolved by name against one configuration version. It can only
 * narrow what the agent's own policies allow: its deny rules deny, a request none of its allow
 * rules matches is denied, and its report-mode policies turn an allow into `would_deny`. Its
 * credentials, address ranges and plaintext flags are never used.
 */
export interface CompiledOverlay {
  names: readonly string[]
  all: readonly CompiledPolicy[]
  enforced: readonly CompiledPolicy[]
  hasReport: boolean
  /**
   * The first name the configuration no longer has (a reload removed it). Such an overlay
   * denies everything: guessing what the sandbox's owner meant could only widen it.
   */
  missing: string | null
}

/** The rule shown when the overlay has enforce-mode policies and none of their rules matched. */
export const OVERLAY_NO_MATCH_RULE: RuleRef = Object.freeze({
  policy: '',
  rule: '',
  id: 'overlay: no rule matched',
})

const OVERLAY_NO_MATCH: Decision = Object.freeze({
  kind: 'deny',
  code: 'TOLLGATE_POLICY_NO_MATCH',
  rule: OVERLAY_NO_MATCH_RULE,
  credential: null,
  websocket: false,
  allowPlaintextCredential: false,
})

/** Resolves overlay names; names missing from `policies` make the overlay deny everything. */
export function resolveOverlay(
  policies: ReadonlyMap<string, CompiledPolicy>,
  names: readonly string[],
): CompiledOverlay {
  const all: CompiledPolicy[] = []
  let missing: string | null = null

  for (const name of names) {
    const policy = policies.get(name)
    if (policy === undefined) missing ??= name
    else all.push(policy)
  }

  const enforced = all.filter((policy) => policy.mode === 'enforce')
  return { names, all, enforced, hasReport: enforced.length < all.length, missing }
}

/**
 * Narrows the agent's decision by the overlay. A deny (the agent's or the overlay's) wins; the
 * agent's allowing rule keeps deciding the credential and the addresses, and a WebSocket
 * upgrade passes only if the overlay's allowing rule lets it through too.
 */
export function narrowByOverlay(
  decision: Decision,
  overlay: CompiledOverlay,
  host: HostKeys,
  target: RequestTarget,
): Decision {
  if (decision.kind === 'deny') return decision
  if (overlay.missing !== null) return missingPolicyDecision(overlay.missing)

  const enforced = evaluate(overlay.enforced, host, target)
  if (enforced?.effect === 'deny') return enforced.decision
  if (enforced === null && overlay.enforced.length > 0) return OVERLAY_NO_MATCH

  const narrowed = enforced === null ? decision : withOverlayFlags(decision, enforced)
  if (!overlay.hasReport || narrowed.kind === 'would_deny') return narrowed

  return reportOverlay(narrowed, evaluate(overlay.all, host, target))
}

/**
 * The same narrowing for a raw tunnel's decision: `evaluateRule` gives the overlay's deciding
 * rule over a list of policies (a tunnel deny, an opaque allow, or null).
 */
export function narrowTunnelByOverlay(
  decision: Decision,
  overlay: CompiledOverlay,
  evaluateRule: (policies: readonly CompiledPolicy[]) => CompiledRule | null,
): Decision {
  if (decision.kind === 'deny') return decision
  if (overlay.missing !== null) return missingPolicyDecision(overlay.missing)

  const enforced = evaluateRule(overlay.enforced)
  if (enforced?.effect === 'deny') return enforced.decision
  if (enforced === null && overlay.enforced.length > 0) return OVERLAY_NO_MATCH
  if (!overlay.hasReport || decision.kind === 'would_deny') return decision

  return reportOverlay(decision, evaluateRule(overlay.all))
}

/** Whether the overlay lets a CONNECT be intercepted, given the agent's policies do. */
export function overlayMayConnect(overlay: CompiledOverlay, host: HostKeys, port: number): boolean {
  if (overlay.missing !== null) return false
  if (overlay.enforced.length === 0) return true

  const endpoint = { scheme: 'https', port } as const
  if (overlay.enforced.some((policy) => policy.deniesWholeHost(host, endpoint))) return false
  return overlay.enforced.some((policy) => policy.mayAllow(host, endpoint))
}

/** Why the overlay refuses a CONNECT: its deny, a policy gone from config, or no match. */
export function overlayConnectRefusal(overlay: CompiledOverlay): Decision {
  return overlay.missing === null ? OVERLAY_NO_MATCH : missingPolicyDecision(overlay.missing)
}

function withOverlayFlags(decision: Decision, overlayRule: CompiledRule): Decision {
  if (!decision.websocket || overlayRule.decision.websocket) return decision
  return Object.freeze({ ...decision, websocket: false })
}

function reportOverlay(decision: Decision, full: CompiledRule | null): Decision {
  if (full?.effect === 'allow') return decision

  return Object.freeze({
    ...decision,
    kind: 'would_deny',
    code: full === null ? 'TOLLGATE_POLICY_NO_MATCH' : 'TOLLGATE_POLICY_DENIED',
    rule: full?.ref ?? OVERLAY_NO_MATCH_RULE,
  })
}

function missingPolicyDecision(name: string): Decision {
  return Object.freeze({
    kind: 'deny',
    code: 'TOLLGATE_POLICY_NO_MATCH',
    rule: Object.freeze({ policy: name, rule: '', id: `overlay: policy ${name} is not in config` }),
    credential: null,
    websocket: false,
    allowPlaintextCredential: false,
  })
}
