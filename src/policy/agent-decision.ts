import type { CompiledPolicy } from './compiled-policy.js'
import type { CompiledRule } from './compiled-rule.js'
import { hostKeys, type HostKeys } from './host-index.js'
import type { Decision, RequestTarget } from './request-target.js'

/** An agent's policies, resolved and split by mode once, when the engine is compiled. */
export interface CompiledAgent {
  name: string
  /** Every policy of the agent, in the agent's order. */
  all: readonly CompiledPolicy[]
  /** The enforce-mode policies only, in the same order. */
  enforced: readonly CompiledPolicy[]
  /**
   * Has policies, all in report mode: everything is forwarded and only recorded. An agent with
   * no policy at all is not monitor-only; it is denied everything.
   */
  monitorOnly: boolean
  /** Has at least one report-mode policy, so a second, "as if enforced" pass is needed. */
  hasReport: boolean
}

/** The answer for a request no rule matched, and for an agent the engine does not know. */
export const NO_MATCH_DECISION: Decision = Object.freeze({
  kind: 'deny',
  code: 'TOLLGATE_POLICY_NO_MATCH',
  rule: null,
  credential: null,
  websocket: false,
  allowPlaintextCredential: false,
})

/**
 * Decides over a list of policies as if all were enforced. Deny beats allow: the first matching
 * deny rule (policy order, then rule order) decides; otherwise the first matching allow rule;
 * null means nothing matched.
 */
export function evaluate(
  policies: readonly CompiledPolicy[],
  host: HostKeys,
  target: RequestTarget,
): CompiledRule | null {
  let allow: CompiledRule | null = null

  for (const policy of policies) {
    const deny = policy.firstDeny(host, target)
    if (deny !== null) return deny

    allow ??= policy.firstAllow(host, target)
  }
  return allow
}

/**
 * The agent's decision: enforce-mode policies decide what is blocked; report-mode policies can
 * only turn an allow into `would_deny`, which is forwarded and recorded.
 */
export function decideForAgent(agent: CompiledAgent, target: RequestTarget): Decision {
  const host = hostKeys(target.host)

  const enforced = agent.monitorOnly ? null : evaluate(agent.enforced, host, target)
  if (!agent.monitorOnly && enforced?.effect !== 'allow') {
    return enforced?.decision ?? NO_MATCH_DECISION
  }

  if (!agent.hasReport && enforced !== null) return enforced.decision

  const full = evaluate(agent.all, host, target)
  if (full?.effect !== 'allow') {
    return wouldDeny(full, enforced, enforced ?? addressRule(agent, host, target))
  }

  return (enforced ?? full).decision
}

/**
 * Whether a CONNECT tunnel to `host:port` is worth opening (and TLS worth intercepting): some
 * enforced allow rule could let an https request through, and no enforced deny rule shuts the
 * whole host. Monitor-only agents may always connect; what they do inside is still recorded.
 */
export function mayAgentConnect(agent: CompiledAgent, host: string, port: number): boolean {
  if (agent.monitorOnly) return true

  const keys = hostKeys(host)
  const endpoint = { scheme: 'https', port } as const
  if (agent.enforced.some((policy) => policy.deniesWholeHost(keys, endpoint))) return false

  return agent.enforced.some((policy) => policy.mayAllow(keys, endpoint))
}

/**
 * Which rule's address allowance a monitor-only agent's request is forwarded under: the first
 * allow rule naming this host and endpoint, whatever its paths. Report mode forwards requests no
 * rule allows, but only to destinations some rule names: a host with no rule still gets public
 * addresses only, so report mode cannot reach cloud metadata or internal services by accident.
 */
function addressRule(
  agent: CompiledAgent,
  host: HostKeys,
  target: RequestTarget,
): CompiledRule | null {
  for (const policy of agent.all) {
    const rule = policy.firstAllowFor(host, target)
    if (rule !== null) return rule
  }
  return null
}

/**
 * The request goes ahead under the enforced allow rule (its credential and flags), but carries
 * the rule and code of what a report-mode policy would have done. Its destination addresses are
 * checked against `addressesFrom`.
 */
function wouldDeny(
  full: CompiledRule | null,
  allow: CompiledRule | null,
  addressesFrom: CompiledRule | null,
): Decision {
  const addresses = addressesFrom?.decision.addresses
  return {
    kind: 'would_deny',
    code: full === null ? 'TOLLGATE_POLICY_NO_MATCH' : 'TOLLGATE_POLICY_DENIED',
    rule: full?.ref ?? null,
    credential: allow?.credential ?? null,
    websocket: allow?.decision.websocket ?? false,
    allowPlaintextCredential: allow?.decision.allowPlaintextCredential ?? false,
    ...(addresses === undefined ? {} : { addresses }),
  }
}
