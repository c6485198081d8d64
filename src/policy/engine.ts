import type { AgentConfig, PolicyConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'
import { decideForAgent, NO_MATCH_DECISION, type CompiledAgent } from './agent-decision.js'
import { CompiledPolicy } from './compiled-policy.js'
import { decideConnect, type ConnectDecision } from './connect-decision.js'
import { hostKeys } from './host-index.js'
import { narrowByOverlay, resolveOverlay } from './overlay.js'
import type { Decision, RequestTarget } from './request-target.js'

/**
 * Decides requests from policy. Compiled once per configuration version and then read-only,
 * so one instance can be shared by every connection; a reload compiles a new engine and swaps
 * the reference.
 *
 * A sandbox may carry a policy overlay: names of policies that narrow its agent's. Overlays
 * are resolved by name at every decision, so a reload applies to running sandboxes at once,
 * and a name the new configuration lacks denies everything.
 *
 * @example
 * const engine = PolicyEngine.compile(config.policies, config.agents)
 * const decision = engine.decide('build-bot', target)
 * if (decision.kind === 'deny') reject(decision.code)
 */
export class PolicyEngine {
  readonly #agents: ReadonlyMap<string, CompiledAgent>
  readonly #policies: ReadonlyMap<string, CompiledPolicy>
  readonly #ruleCount: number

  private constructor(
    agents: ReadonlyMap<string, CompiledAgent>,
    policies: ReadonlyMap<string, CompiledPolicy>,
    ruleCount: number,
  ) {
    this.#agents = agents
    this.#policies = policies
    this.#ruleCount = ruleCount
  }

  /**
   * Compiles policies and agents into indexed matchers. Throws TOLLGATE_CONFIG_INVALID when a
   * policy name repeats or an agent names a policy that does not exist: guessing there could
   * open or close more than the author meant.
   */
  static compile(policies: readonly PolicyConfig[], agents: readonly AgentConfig[]): PolicyEngine {
    const compiled = compilePolicies(policies)

    const byAgent = new Map<string, CompiledAgent>()
    for (const agent of agents) byAgent.set(agent.name, compileAgent(agent, compiled))

    const ruleCount = policies.reduce((sum, policy) => sum + policy.rules.length, 0)
    return new PolicyEngine(byAgent, compiled, ruleCount)
  }

  /**
   * Decides one canonical request for an agent, narrowed by a sandbox's `overlay` (policy
   * names) when one is given. Never throws: an agent the engine does not know is denied with
   * TOLLGATE_POLICY_NO_MATCH. The returned object may be shared between calls and is frozen;
   * do not modify it.
   */
  decide(agent: string, target: RequestTarget, overlay?: readonly string[]): Decision {
    const compiled = this.#agents.get(agent)
    if (compiled === undefined) return NO_MATCH_DECISION

    const decision = decideForAgent(compiled, target)
    if (overlay === undefined || overlay.length === 0) return decision

    const resolved = resolveOverlay(this.#policies, overlay)
    return narrowByOverlay(decision, resolved, hostKeys(target.host), target)
  }

  /**
   * Whether the agent may open an intercepted CONNECT tunnel to `host:port` (canonical host).
   * False for an unknown agent, when no enforced allow rule could match an https request
   * there, or when an enforced deny rule shuts the whole host; always true for a monitor-only
   * agent. An overlay must allow it the same way.
   */
  mayConnect(agent: string, host: string, port: number, overlay?: readonly string[]): boolean {
    return this.decideConnect(agent, host, port, overlay).kind === 'intercept'
  }

  /**
   * Decides `CONNECT host:port`: intercept it, splice it as an opaque tunnel (an opaque-tunnel
   * rule allows it), or refuse it with the deciding rule.
   */
  decideConnect(
    agent: string,
    host: string,
    port: number,
    overlay?: readonly string[],
  ): ConnectDecision {
    const compiled = this.#agents.get(agent)
    if (compiled === undefined) return { kind: 'refuse', decision: NO_MATCH_DECISION }

    const resolved =
      overlay === undefined || overlay.length === 0 ? null : resolveOverlay(this.#policies, overlay)
    return decideConnect(compiled, resolved, host, port)
  }

  /** Whether the configuration has a policy of this name (overlays name existing policies). */
  hasPolicy(name: string): boolean {
    return this.#policies.has(name)
  }

  /** How many rules the configuration holds (each rule counted once, however many agents). */
  ruleCount(): number {
    return this.#ruleCount
  }

  /** The agent's compiled policies in its order, or undefined for an unknown agent. */
  policiesOf(agent: string): readonly CompiledPolicy[] | undefined {
    return this.#agents.get(agent)?.all
  }
}

function compilePolicies(policies: readonly PolicyConfig[]): Map<string, CompiledPolicy> {
  const compiled = new Map<string, CompiledPolicy>()

  for (const policy of policies) {
    if (compiled.has(policy.name)) {
      throw new TollgateError('TOLLGATE_CONFIG_INVALID', `policy "${policy.name}" is defined twice`)
    }
    compiled.set(policy.name, new CompiledPolicy(policy))
  }
  return compiled
}

function compileAgent(
  agent: AgentConfig,
  policies: ReadonlyMap<string, CompiledPolicy>,
): CompiledAgent {
  const all = agent.policies.map((name) => {
    const policy = policies.get(name)
    if (policy !== undefined) return policy

    const message = `agent "${agent.name}" references unknown policy "${name}"`
    throw new TollgateError('TOLLGATE_CONFIG_INVALID', message)
  })

  const enforced = all.filter((policy) => policy.mode === 'enforce')
  return {
    name: agent.name,
    all,
    enforced,
    monitorOnly: all.length > 0 && enforced.length === 0,
    hasReport: enforced.length < all.length,
  }
}
