import type { CredentialConfig, PolicyConfig, RuleConfig } from '../config/types.js'
import { hostPatternCovers, isAnyHost, isTopLevelSuffix } from './host-pattern.js'
import { finding, type LintFinding } from './lint-finding.js'
import { coversAllPaths, ruleCovers } from './rule-coverage.js'

/**
 * Findings about single rules: what they match and what they inject. Deny rules may be as wide
 * as their author likes (wide denies are least privilege), so host breadth is only flagged on
 * allow rules.
 */
export function lintRule(
  policy: PolicyConfig,
  rule: RuleConfig,
  credentials: ReadonlyMap<string, CredentialConfig>,
): LintFinding[] {
  const subject = { policy: policy.name, rule: rule.name }
  const found: LintFinding[] = []

  if (rule.hosts.length === 0) {
    found.push(
      finding('error', 'POLICY_RULE_NO_HOSTS', subject, 'rule lists no host: it never matches'),
    )
  }
  if (rule.effect === 'allow') found.push(...lintAllowHosts(policy, rule))

  found.push(...lintCredential(policy, rule, credentials))
  return found
}

/** Findings about rules in relation to earlier or opposite rules of the same policy. */
export function lintRuleOrder(policy: PolicyConfig): LintFinding[] {
  const found: LintFinding[] = []

  policy.rules.forEach((rule, index) => {
    const subject = { policy: policy.name, rule: rule.name }
    const earlier = policy.rules.slice(0, index)

    if (earlier.some((other) => other.name === rule.name)) {
      found.push(
        finding(
          'error',
          'POLICY_DUPLICATE_RULE',
          subject,
          'rule name is used twice in this policy',
        ),
      )
    }

    const shadow = earlier.find(
      (other) => other.effect === rule.effect && isSameKind(other, rule) && ruleCovers(other, rule),
    )
    if (shadow !== undefined) {
      const message =
        `rule is shadowed by earlier ${shadow.effect} rule "${shadow.name}": ` + 'it never decides'
      found.push(finding('warning', 'POLICY_SHADOWED_RULE', subject, message))
    }

    const killer = rule.effect === 'allow' ? findCoveringDeny(policy, rule) : undefined
    if (killer !== undefined) {
      const message = `allow rule is fully covered by deny rule "${killer.name}": it never allows`
      found.push(finding('error', 'POLICY_DEAD_RULE', subject, message))
    }
  })
  return found
}

/** An opaque-tunnel rule and an HTTP rule never answer the same question. */
function isSameKind(a: RuleConfig, b: RuleConfig): boolean {
  return (a.tunnel === 'opaque') === (b.tunnel === 'opaque')
}

function findCoveringDeny(policy: PolicyConfig, rule: RuleConfig): RuleConfig | undefined {
  return policy.rules.find((other) => other.effect === 'deny' && ruleCovers(other, rule))
}

function lintAllowHosts(policy: PolicyConfig, rule: RuleConfig): LintFinding[] {
  const subject = { policy: policy.name, rule: rule.name }
  const found: LintFinding[] = []

  if (rule.hosts.some(isAnyHost)) {
    const message = 'allow rule matches any host (`*`): name the hosts the agent needs'
    found.push(finding('error', 'POLICY_WILDCARD_HOST', subject, message))
  }

  for (const host of rule.hosts.filter(isTopLevelSuffix)) {
    const message = `allow rule host "${host}" matches a whole top-level domain`
    found.push(finding('error', 'POLICY_PUBLIC_SUFFIX', subject, message))
  }
  return found
}

function lintCredential(
  policy: PolicyConfig,
  rule: RuleConfig,
  credentials: ReadonlyMap<string, CredentialConfig>,
): LintFinding[] {
  if (rule.credential === null) return []

  const subject = { policy: policy.name, rule: rule.name }
  if (rule.effect === 'deny') {
    const message = 'deny rule names a credential; it is never injected'
    return [finding('warning', 'POLICY_CREDENTIAL_ON_DENY', subject, message)]
  }

  const credential = credentials.get(rule.credential)
  if (credential === undefined) {
    const message = `rule names unknown credential "${rule.credential}"`
    return [finding('error', 'POLICY_UNKNOWN_CREDENTIAL', subject, message)]
  }

  return [...lintBroadCredential(policy, rule), ...lintCredentialHosts(policy, rule, credential)]
}

function lintBroadCredential(policy: PolicyConfig, rule: RuleConfig): LintFinding[] {
  if (rule.methods.length > 0 || !coversAllPaths(rule.paths)) return []

  const message = `credential "${rule.credential}" is injected for every method and path`
  return [
    finding(
      'warning',
      'POLICY_BROAD_CREDENTIAL',
      { policy: policy.name, rule: rule.name },
      message,
    ),
  ]
}

/** A credential is injected only on its bound hosts; a rule reaching wider fails there. */
function lintCredentialHosts(
  policy: PolicyConfig,
  rule: RuleConfig,
  credential: CredentialConfig,
): LintFinding[] {
  const unbound = rule.hosts.filter(
    (host) => !credential.hosts.some((pattern) => hostPatternCovers(pattern, host)),
  )

  return unbound.map((host) => {
    const message = `credential "${credential.name}" is not bound to host "${host}"`
    return finding(
      'warning',
      'POLICY_CREDENTIAL_HOST',
      { policy: policy.name, rule: rule.name },
      message,
    )
  })
}
