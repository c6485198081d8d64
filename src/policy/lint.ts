import type { AgentConfig, TollgateConfig } from '../config/types.js'
import { finding, type LintFinding } from './lint-finding.js'
import { lintRule, lintRuleOrder } from './lint-rules.js'

export type { LintFinding, LintSeverity } from './lint-finding.js'

/**
 * Checks policies for rules that are wider than they look, rules that can never decide, and
 * agents that are not governed the way their author probably thinks. Errors first, then
 * warnings; within each, in configuration order.
 *
 * Findings are advice on the text of the configuration; they do not change how the engine
 * decides.
 */
export function lintPolicies(config: TollgateConfig): LintFinding[] {
  const credentials = new Map(config.credentials.map((credential) => [credential.name, credential]))

  const found = config.policies.flatMap((policy) => [
    ...policy.rules.flatMap((rule) => lintRule(policy, rule, credentials)),
    ...lintRuleOrder(policy),
  ])
  found.push(...lintAgents(config), ...lintUnusedPolicies(config))

  return [...found.filter(isError), ...found.filter((item) => !isError(item))]
}

function isError(item: LintFinding): boolean {
  return item.severity === 'error'
}

function lintAgents(config: TollgateConfig): LintFinding[] {
  const modes = new Map(config.policies.map((policy) => [policy.name, policy.mode]))
  return config.agents.flatMap((agent) => lintAgent(agent, modes))
}

function lintAgent(agent: AgentConfig, modes: ReadonlyMap<string, string>): LintFinding[] {
  const subject = { policy: null, agent: agent.name }
  if (agent.policies.length === 0) {
    const message = 'agent has no policy: every request it makes is denied'
    return [finding('warning', 'POLICY_AGENT_WITHOUT_POLICY', subject, message)]
  }

  const unknown = agent.policies.filter((name) => !modes.has(name))
  if (unknown.length > 0) {
    return unknown.map((name) =>
      finding(
        'error',
        'POLICY_UNKNOWN_POLICY',
        { policy: name, agent: agent.name },
        'agent references a policy that does not exist',
      ),
    )
  }

  if (agent.policies.every((name) => modes.get(name) === 'report')) {
    const message = "all of the agent's policies are in report mode: nothing it does is blocked"
    return [finding('warning', 'POLICY_MONITOR_ONLY_AGENT', subject, message)]
  }
  return []
}

function lintUnusedPolicies(config: TollgateConfig): LintFinding[] {
  const used = new Set(config.agents.flatMap((agent) => agent.policies))

  return config.policies
    .filter((policy) => !used.has(policy.name))
    .map((policy) =>
      finding(
        'warning',
        'POLICY_UNUSED',
        { policy: policy.name },
        'no agent references this policy',
      ),
    )
}
