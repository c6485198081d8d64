import type { PolicyMode, RuleEffect, TollgateConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'
import type { ConnectDecision } from './connect-decision.js'
import type { PolicyEngine } from './engine.js'
import type { Decision, RequestTarget } from './request-target.js'
import { canonicalHost, formatTarget, targetFromUrl } from './target-from-url.js'

/** One rule that matched the request, whether or not it decided. */
export interface RuleMatch {
  id: string
  policy: string
  rule: string
  effect: RuleEffect
  mode: PolicyMode
  credential: string | null
}

/** Why a request would be decided the way it is, for `tollgate policy explain`. */
export interface Explanation {
  agent: string
  /** False when the configuration has no agent of that name (it is then denied). */
  agentKnown: boolean
  target: RequestTarget
  decision: Decision
  /** Every matching rule of the agent's policies, in evaluation order. */
  matches: RuleMatch[]
}

/**
 * Decides `method url` for an agent exactly as the relay would (same engine), and lists every
 * rule that matched so the operator can see what was beaten by what.
 */
export function explainDecision(
  engine: PolicyEngine,
  config: TollgateConfig,
  agent: string,
  method: string,
  url: string,
): Explanation {
  const target = targetFromUrl(method, url)

  return {
    agent,
    agentKnown: config.agents.some((candidate) => candidate.name === agent),
    target,
    decision: engine.decide(agent, target),
    matches: findMatches(engine, agent, target),
  }
}

/** A few lines of plain text; the decision first, then the rules that matched. */
export function formatExplanation(explanation: Explanation): string {
  const { decision } = explanation
  const lines = [
    `agent:      ${explanation.agent}${explanation.agentKnown ? '' : ' (unknown agent)'}`,
    `request:    ${formatTarget(explanation.target)}`,
    `decision:   ${decision.kind}${decision.code === null ? '' : ` (${decision.code})`}`,
    `rule:       ${decision.rule?.id ?? 'none'}`,
    `credential: ${decision.credential ?? 'none'}`,
  ]

  if (explanation.matches.length === 0) return [...lines, 'matched:    no rule'].join('\n')

  const matched = explanation.matches.map(formatMatch)
  return [...lines, 'matched:', ...matched].join('\n')
}

function findMatches(engine: PolicyEngine, agent: string, target: RequestTarget): RuleMatch[] {
  const policies = engine.policiesOf(agent) ?? []

  return policies.flatMap((policy) =>
    policy.rules
      .filter((rule) => !rule.opaque && rule.matchesHost(target.host) && rule.matches(target))
      .map((rule) => ({
        id: rule.ref.id,
        policy: policy.name,
        rule: rule.ref.rule,
        effect: rule.effect,
        mode: policy.mode,
        credential: rule.credential,
      })),
  )
}

function formatMatch(match: RuleMatch): string {
  const credential = match.credential === null ? '' : ` credential=${match.credential}`
  return `  ${match.effect.padEnd(5)} ${match.id} [${match.mode}]${credential}`
}

/** How the relay would treat `CONNECT host:port`, for `tollgate policy explain … CONNECT`. */
export interface ConnectExplanation {
  agent: string
  agentKnown: boolean
  host: string
  port: number
  /** `intercept` (TLS terminated, each request decided), `opaque` (bytes spliced) or `refuse`. */
  outcome: ConnectDecision['kind']
  /** The deciding rule's decision for `opaque` and `refuse`; null for `intercept`. */
  decision: Decision | null
}

/**
 * Decides a CONNECT the way the relay's tunnel listener does. `authority` is `host:port`, the
 * port required: a CONNECT always names one.
 */
export function explainConnect(
  engine: PolicyEngine,
  config: TollgateConfig,
  agent: string,
  authority: string,
): ConnectExplanation {
  const { host, port } = parseConnectAuthority(authority)
  const connect = engine.decideConnect(agent, host, port)

  return {
    agent,
    agentKnown: config.agents.some((candidate) => candidate.name === agent),
    host,
    port,
    outcome: connect.kind,
    decision: connect.kind === 'intercept' ? null : connect.decision,
  }
}

export function formatConnectExplanation(explanation: ConnectExplanation): string {
  const { decision } = explanation
  const host = explanation.host.includes(':') ? `[${explanation.host}]` : explanation.host
  const outcome = {
    intercept: 'intercept (TLS is terminated and every request inside is decided on its own)',
    opaque: `opaque tunnel, ${decision?.kind ?? 'allow'} (bytes spliced unread, counted)`,
    refuse: `refuse${decision?.code ? ` (${decision.code})` : ''}`,
  }[explanation.outcome]
  return [
    `agent:      ${explanation.agent}${explanation.agentKnown ? '' : ' (unknown agent)'}`,
    `request:    CONNECT ${host}:${explanation.port}`,
    `decision:   ${outcome}`,
    `rule:       ${decision?.rule?.id ?? 'none'}`,
  ].join('\n')
}

function parseConnectAuthority(authority: string): { host: string; port: number } {
  let parsed: URL
  try {
    parsed = new URL(`http://${authority}`)
  } catch (cause) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'CONNECT takes host:port', { cause })
  }
  // URL drops a port equal to the scheme's default, so read it back from the text.
  const port = Number(/:(\d+)$/.exec(authority)?.[1] ?? Number.NaN)
  const exact = parsed.pathname === '/' && parsed.search === '' && parsed.username === ''
  if (!exact || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'CONNECT takes host:port')
  }
  return { host: canonicalHost(parsed.hostname), port }
}
