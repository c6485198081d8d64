import type { IssueList } from './issue-list.js'
import { didYouMean } from './suggest.js'
import type { TollgateConfig } from './types.js'
import type { ConfigPath } from './yaml-source.js'

/**
 * Checks that names are unique and that every name used refers to something declared: the
 * agent's owner, team and policies, and the rule's credential. An agent bound to an unknown
 * person would be an anonymous agent in all but name.
 */
export function checkReferences(config: TollgateConfig, issues: IssueList): void {
  checkUniqueNames(config, issues)
  checkAgents(config, issues)
  checkRuleCredentials(config, issues)
  checkRoutesHaveListener(config, issues)
}

function checkUniqueNames(config: TollgateConfig, issues: IssueList): void {
  const unique = (what: string, section: string, key: string, names: string[]) =>
    checkUnique(names, (i) => [section, i, key], what, issues)

  unique(
    'person',
    'people',
    'email',
    config.people.map((p) => p.email),
  )
  unique(
    'agent',
    'agents',
    'name',
    config.agents.map((a) => a.name),
  )
  unique(
    'policy',
    'policies',
    'name',
    config.policies.map((p) => p.name),
  )
  unique(
    'credential',
    'credentials',
    'name',
    config.credentials.map((c) => c.name),
  )
  unique(
    'route',
    'routes',
    'name',
    config.routes.map((r) => r.name),
  )
  unique(
    'upstream',
    'upstreams',
    'host',
    config.upstreams.map((u) => u.host),
  )

  for (const [p, policy] of config.policies.entries()) {
    const names = policy.rules.map((r) => r.name)
    checkUnique(names, (i) => ['policies', p, 'rules', i, 'name'], 'rule', issues)
  }
}

function checkUnique(
  names: readonly string[],
  pathOf: (index: number) => ConfigPath,
  what: string,
  issues: IssueList,
): void {
  const first = new Map<string, number>()

  for (const [i, name] of names.entries()) {
    const earlier = first.get(name)
    if (earlier === undefined) {
      first.set(name, i)
      continue
    }
    const { line } = issues.locate(pathOf(earlier))
    issues.add(pathOf(i), `duplicate ${what} "${name}" (first declared at line ${line})`)
  }
}

function checkAgents(config: TollgateConfig, issues: IssueList): void {
  const people = config.people.map((p) => p.email)
  const teams = new Set(config.people.flatMap((p) => p.teams))
  const policies = config.policies.map((p) => p.name)

  for (const [i, agent] of config.agents.entries()) {
    if (!people.includes(agent.owner)) {
      const hint = didYouMean(agent.owner, people)
      issues.add(['agents', i, 'owner'], `"${agent.owner}" is not a declared person${hint}`)
    }
    if (!teams.has(agent.team)) {
      const hint = didYouMean(agent.team, teams)
      issues.add(
        ['agents', i, 'team'],
        `"${agent.team}" is not a team of any declared person${hint}`,
      )
    }
    checkKnown(agent.policies, policies, ['agents', i, 'policies'], 'policy', issues)
  }
}

function checkKnown(
  used: readonly string[],
  declared: readonly string[],
  path: ConfigPath,
  what: string,
  issues: IssueList,
): void {
  for (const [j, name] of used.entries()) {
    if (declared.includes(name)) continue
    issues.add([...path, j], `no ${what} named "${name}"${didYouMean(name, declared)}`)
  }
}

function checkRuleCredentials(config: TollgateConfig, issues: IssueList): void {
  const credentials = config.credentials.map((c) => c.name)

  for (const [p, policy] of config.policies.entries()) {
    for (const [r, rule] of policy.rules.entries()) {
      if (rule.credential === null || credentials.includes(rule.credential)) continue

      const hint = didYouMean(rule.credential, credentials)
      const path = ['policies', p, 'rules', r, 'credential']
      issues.add(path, `no credential named "${rule.credential}"${hint}`)
    }
  }
}

// Routes without a reverse listener would be accepted and then silently never served.
function checkRoutesHaveListener(config: TollgateConfig, issues: IssueList): void {
  if (config.routes.length === 0 || config.server.reverse !== null) return
  issues.add(['routes'], 'routes need the reverse listener: set server.reverse (e.g. reverse: {})')
}
