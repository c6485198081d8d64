import { isPatternWithin } from './host-pattern.js'
import type { IssueList } from './issue-list.js'
import type { CredentialConfig, RuleConfig, TollgateConfig } from './types.js'
import type { ConfigPath } from './yaml-source.js'

/**
 * Headers a credential may not be injected as: hop-by-hop headers are consumed by the next
 * hop (or rewritten by the relay), and the rest decide where and how the request is delivered
 * or framed, so injecting them could redirect or smuggle a request.
 */
const FORBIDDEN_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
])

/**
 * Checks that each credential can only travel where it is bound: its injection is well formed,
 * it is bound to named hosts, no deny rule names it, and no rule that injects it can match a
 * host outside its bound hosts.
 */
export function checkCredentials(config: TollgateConfig, issues: IssueList): void {
  for (const [i, credential] of config.credentials.entries()) {
    checkCredential(credential, ['credentials', i], issues)
  }
  checkPlaceholdersDistinct(config.credentials, issues)

  const byName = new Map(config.credentials.map((c) => [c.name, c]))
  for (const [p, policy] of config.policies.entries()) {
    for (const [r, rule] of policy.rules.entries()) {
      checkRule(rule, byName, ['policies', p, 'rules', r], issues)
    }
  }
}

function checkCredential(credential: CredentialConfig, path: ConfigPath, issues: IssueList): void {
  for (const [j, host] of credential.hosts.entries()) {
    if (host !== '*') continue
    issues.add([...path, 'hosts', j], 'a credential cannot be bound to every host ("*")')
  }

  const inject = credential.inject
  if (inject.kind !== 'header') return

  if (FORBIDDEN_HEADERS.has(inject.header)) {
    issues.add([...path, 'header', 'name'], `"${inject.header}" cannot carry a credential`)
  }
  if (!inject.format.includes('{secret}')) {
    issues.add([...path, 'header', 'format'], 'must contain {secret} where the secret goes')
  }
}

// One placeholder shared by two credentials would leave the relay to guess which secret it means.
function checkPlaceholdersDistinct(
  credentials: readonly CredentialConfig[],
  issues: IssueList,
): void {
  const seen = new Map<string, string>()

  for (const [i, credential] of credentials.entries()) {
    if (credential.inject.kind !== 'placeholder') continue

    const other = seen.get(credential.inject.placeholder)
    const path = ['credentials', i, 'placeholder', 'value']
    if (other) issues.add(path, `is already the placeholder of credential "${other}"`)
    else seen.set(credential.inject.placeholder, credential.name)
  }
}

function checkRule(
  rule: RuleConfig,
  credentials: ReadonlyMap<string, CredentialConfig>,
  path: ConfigPath,
  issues: IssueList,
): void {
  if (rule.credential === null) return

  if (rule.effect === 'deny') {
    issues.add([...path, 'credential'], 'a deny rule cannot inject a credential')
    return
  }

  // An unknown credential is reported by the reference checks.
  const credential = credentials.get(rule.credential)
  if (!credential) return

  for (const [j, host] of rule.hosts.entries()) {
    if (isPatternWithin(host, credential.hosts)) continue
    const message = `"${host}" is outside the hosts credential "${credential.name}" is bound to`
    issues.add([...path, 'hosts', j], message)
  }
}
