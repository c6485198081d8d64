import type { AgentConfig, PolicyConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'
import {
  decideForAgent,
  mayAgentConnect,
  NO_MATCH_DECISION,
  type CompiledAgent,
} from './agent-decision.js'
import { CompiledPolicy } from './compiled-policy.js'
import type { Decision, RequestTarget } from './request-target.js'

/**
 * Decides requests from policy. Compiled once per configuration version and then read-only,
 * so one instance can be shared by every connection; a reload compiles a new engine and swaps
 * the reference.
 *
 * @example
 * const engine = PolicyEngine.compile(config.policies, config.agents)
 * const decision = engine.decide('build-bot', target)
 * if (decision.kind === 'deny') reject(decision.code)
 */
export class PolicyEngine {
  readonly #agents: ReadonlyMap<string, CompiledAgent>
  readonly #ruleCount: number

  private constructor(agents: ReadonlyMap<string, CompiledAgent>, ruleCount: number) {
    this.#agents = agents
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
    return new PolicyEngine(byAgent, ruleCount)
  }

  /**
   * Decides one canonical request for an agent. Never throws: an agent the engine does not
   * know is denied with TOLLGATE_POLICY_NO_MATCH. The returned object may be shared between
   * calls and is frozen; do not modify it.
   */
  decide(agent: string, target: RequestTarget): Decision {
    const compiled = this.#agents.get(agent)
    return compiled === undefined ? NO_MATCH_DECISION : decideForAgent(compiled, target)
  }

  /**
   * Whether the agent may open a CONNECT tunnel to `host:port` (canonical host). False for an
   * unknown agent, when no enforced allow rule could match an https request there, or when an
   * enforced deny rule shuts the whole host; always true for a monitor-only agent.
   */
  mayConnect(agent: string, host: string, port: number): boolean {
    const compiled = this.#agents.get(agent)
    return compiled !== undefined && mayAgentConnect(compiled, host, port)
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
