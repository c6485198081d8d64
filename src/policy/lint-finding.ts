/** How bad a lint finding is: an error means the policy does not do what it says. */
export type LintSeverity = 'error' | 'warning'

/**
 * One finding of `tollgate policy lint`. `code` is stable (`POLICY_…`), so CI can allow-list a
 * known warning; the message may be reworded.
 */
export interface LintFinding {
  severity: LintSeverity
  code: string
  /** The policy concerned; null for a finding about an agent alone. */
  policy: string | null
  /** The rule concerned; null for a finding about a whole policy or agent. */
  rule: string | null
  /** The agent concerned, for findings about how agents use policies. */
  agent: string | null
  message: string
}

/** Where a finding points; the fields a finding has besides its severity, code and message. */
export interface LintSubject {
  policy: string | null
  rule?: string | null
  agent?: string | null
}

export function finding(
  severity: LintSeverity,
  code: string,
  subject: LintSubject,
  message: string,
): LintFinding {
  return {
    severity,
    code,
    policy: subject.policy,
    rule: subject.rule ?? null,
    agent: subject.agent ?? null,
    message,
  }
}
