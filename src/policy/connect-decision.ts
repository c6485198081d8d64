import { mayAgentConnect, NO_MATCH_DECISION, type CompiledAgent } from './agent-decision.js'
import type { CompiledPolicy } from './compiled-policy.js'
import type { CompiledRule } from './compiled-rule.js'
import { hostKeys, type HostKeys } from './host-index.js'
import {
  narrowTunnelByOverlay,
  overlayConnectRefusal,
  overlayMayConnect,
  type CompiledOverlay,
} from './overlay.js'
import type { Decision } from './request-target.js'

/**
 * What to do with `CONNECT host:port`:
 * - `intercept`: open the tunnel and terminate TLS, deciding every request inside on its own;
 * - `opaque`: an opaque-tunnel rule allows it (`allow` or `would_deny`): splice the bytes;
 * - `refuse`: answer 403 with the decision's code and rule.
 */
export type ConnectDecision =
  | { kind: 'intercept' }
  | { kind: 'opaque'; decision: Decision }
  | { kind: 'refuse'; decision: Decision }

const INTERCEPT: ConnectDecision = Object.freeze({ kind: 'intercept' })
const REFUSE_NO_MATCH: ConnectDecision = Object.freeze({
  kind: 'refuse',
  decision: NO_MATCH_DECISION,
})

/**
 * Decides a CONNECT for an agent and, for a sandbox, its overlay. An opaque-tunnel rule of an
 * enforce-mode policy is needed for a raw tunnel: report mode never opens one, because the
 * bytes could not be governed afterwards. Without such a rule the CONNECT is intercepted when
 * `mayConnect` holds, as before.
 */
export function decideConnect(
  agent: CompiledAgent,
  overlay: CompiledOverlay | null,
  host: string,
  port: number,
): ConnectDecision {
  const keys = hostKeys(host)
  const opaque = decideOpaque(agent, keys, port)
  if (opaque === null) return interceptOrRefuse(agent, overlay, keys, host, port)

  const decision =
    overlay === null
      ? opaque
      : narrowTunnelByOverlay(opaque, overlay, (list) => evaluateTunnel(list, keys, port))
  return decision.kind === 'deny' ? { kind: 'refuse', decision } : { kind: 'opaque', decision }
}

function interceptOrRefuse(
  agent: CompiledAgent,
  overlay: CompiledOverlay | null,
  keys: HostKeys,
  host: string,
  port: number,
): ConnectDecision {
  if (!mayAgentConnect(agent, host, port)) return REFUSE_NO_MATCH
  if (overlay === null || overlayMayConnect(overlay, keys, port)) return INTERCEPT
  return { kind: 'refuse', decision: overlayConnectRefusal(overlay) }
}

/** The agent's decision on a raw tunnel, or null when no enforced opaque rule names it. */
function decideOpaque(agent: CompiledAgent, keys: HostKeys, port: number): Decision | null {
  const enforced = evaluateTunnel(agent.enforced, keys, port)
  if (enforced === null) return null
  if (enforced.effect === 'deny' || !agent.hasReport) return enforced.decision

  const full = evaluateTunnel(agent.all, keys, port)
  if (full === null || full.effect === 'allow') return enforced.decision
  return Object.freeze({
    ...enforced.decision,
    kind: 'would_deny',
    code: 'TOLLGATE_POLICY_DENIED',
    rule: full.ref,
  })
}

/**
 * Over a list of policies: null when none has an opaque rule for this host and port; else the
 * first deny rule shutting the tunnel (deny beats allow, in any policy), else the first opaque
 * rule. Deny rules alone do not make a tunnel opaque: the CONNECT is then intercepted and
 * decided like any other.
 */
export function evaluateTunnel(
  policies: readonly CompiledPolicy[],
  keys: HostKeys,
  port: number,
): CompiledRule | null {
  let allow: CompiledRule | null = null
  for (const policy of policies) allow ??= policy.firstOpaque(keys, port)
  if (allow === null) return null

  for (const policy of policies) {
    const deny = policy.firstTunnelDeny(keys, port)
    if (deny !== null) return deny
  }
  return allow
}
