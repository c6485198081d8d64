import type { AuditDecision, AuditEventInput, AuditEventType } from '../../audit/event.js'
import type { RelayLimits } from '../limits/relay-limits.js'
import type { Exchange, RelayDeps } from './exchange.js'
import { refusalEventType, refusalOutcome } from './outcome.js'
import { redactQuery } from './redact-query.js'
import { redactTokens } from '../../identity/token-format.js'

/**
 * Writes the decision for an allowed request and waits until it is durable: no audit, no
 * egress. A failed write refuses the request (the caller turns the rejection into a 503).
 */
export async function recordDecision(deps: RelayDeps, ex: Exchange): Promise<void> {
  try {
    await deps.audit.record(auditEvent(ex, 'request.decided'))
  } catch (error) {
    deps.metrics.auditFailed()
    throw error
  }
}

/**
 * Closes the books on an exchange: the audit event for how it ended, the one decision log
 * line, and the metrics. Called exactly once, when the response is finished or abandoned.
 */
export function finishExchange(deps: RelayDeps & { limits: RelayLimits }, ex: Exchange): void {
  const outcome = outcomeOf(ex)
  // Once a request went upstream its decision is on record; whatever happened next (an
  // upstream failure, a placeholder caught in the body) is its completion. So is an allowed
  // request whose agent hung up before it could go: it was decided, not refused.
  const abandoned = !ex.forwarded && ex.code === null && isGoing(ex.decision?.kind)
  if (abandoned) ex.upstreamError ??= AGENT_LEFT
  else if (ex.forwarded && !ex.req.complete && !ex.res.writableFinished) {
    ex.upstreamError ??= AGENT_LEFT_MID_BODY
  }
  const completed = ex.forwarded || abandoned
  const seconds = (performance.now() - ex.startedAt) / 1000
  deps.metrics.observeRequest(outcome, ex.listener, seconds)
  // A refusal that names no agent may be one of a flood: past its source's share it is only
  // counted, into the summary `UnauthenticatedAudit` writes when its interval ends.
  if (!completed && !admitRefusal(deps.limits, ex)) return

  const type: AuditEventType = completed ? 'request.completed' : refusalEventType(outcome)
  void deps.audit.recordQuietly(auditEvent(ex, type))
  logDecision(deps, ex, outcome, seconds)
}

function admitRefusal(limits: RelayLimits, ex: Exchange): boolean {
  if (ex.code === null) return true
  return limits.unauthenticatedAudit.admit({
    requestId: ex.id,
    code: ex.code,
    agent: ex.caller?.agent ?? null,
    client: ex.req.socket.remoteAddress,
  })
}

/** What the completion of an allowed request that never went upstream says about it. */
export const AGENT_LEFT = 'agent closed the connection before the request was forwarded'

/** The same for a request whose body the agent stopped sending halfway. */
export const AGENT_LEFT_MID_BODY = 'agent closed the connection mid-body'

function isGoing(kind: string | undefined): boolean {
  return kind === 'allow' || kind === 'would_deny'
}

function outcomeOf(ex: Exchange): AuditDecision {
  if (ex.code === null) return ex.decision?.kind ?? 'error'
  return refusalOutcome(ex.code) ?? ex.decision?.kind ?? 'error'
}

function auditEvent(ex: Exchange, type: AuditEventType): AuditEventInput {
  const { caller, target, decision } = ex
  return {
    type,
    request_id: ex.id,
    agent: caller?.agent ?? null,
    owner: caller?.owner ?? null,
    team: caller?.team ?? null,
    token_id: caller?.tokenId ?? null,
    sandbox_id: caller?.sandboxId ?? null,
    client: ex.req.socket.remoteAddress ?? null,
    method: target?.method ?? ex.req.method ?? null,
    scheme: target?.scheme ?? null,
    host: target?.host ?? null,
    port: target?.port ?? null,
    path: target ? redactTokens(target.path) + redactQuery(ex.query) : null,
    decision:
      type === 'request.decided' && ex.code === null ? (decision?.kind ?? null) : outcomeOf(ex),
    code: ex.code ?? decision?.code ?? null,
    rule: decision?.rule?.id ?? null,
    policy_version: ex.version,
    credentials: ex.credentials.length > 0 ? ex.credentials : null,
    status: type === 'request.decided' ? null : ex.status,
    bytes_in: type === 'request.decided' ? null : ex.bytesIn,
    bytes_out: type === 'request.decided' ? null : ex.bytesOut,
    duration_ms: type === 'request.decided' ? null : round(performance.now() - ex.startedAt),
    upstream_error: ex.upstreamError,
  }
}

function logDecision(deps: RelayDeps, ex: Exchange, outcome: AuditDecision, seconds: number) {
  const level = outcome === 'allow' ? 'info' : outcome === 'error' ? 'error' : 'warn'
  if (!deps.logger.isLevelEnabled(level)) return
  deps.logger[level](
    {
      event: 'request',
      requestId: ex.id,
      agent: ex.caller?.agent,
      owner: ex.caller?.owner,
      method: ex.target?.method,
      scheme: ex.target?.scheme,
      host: ex.target?.host,
      port: ex.target?.port,
      path: ex.target ? redactTokens(ex.target.path) : undefined,
      decision: outcome,
      code: ex.code ?? ex.decision?.code ?? undefined,
      rule: ex.decision?.rule?.id,
      credentials: ex.credentials,
      status: ex.status,
      durationMs: round(seconds * 1000),
      upstreamError: ex.upstreamError ?? undefined,
    },
    'request',
  )
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
