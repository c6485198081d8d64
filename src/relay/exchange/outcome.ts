import type { AuditDecision, AuditEventType } from '../../audit/event.js'
import { ERRORS, type ErrorCode } from '../../errors/codes.js'

/** Refusals that come from a resource limit rather than from policy or a malformed request. */
const LIMIT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TOLLGATE_CONNECTION_LIMIT',
  'TOLLGATE_RATE_LIMITED',
  'TOLLGATE_OVERLOADED',
  'TOLLGATE_REQUEST_TIMEOUT',
  'TOLLGATE_BODY_TOO_LARGE',
  'TOLLGATE_RESPONSE_TOO_LARGE',
])

/**
 * How a refusal the relay wrote itself is classified in the audit trail, the decision log line
 * and the metrics; null for a failure (upstream or relay fault), which the caller classifies by
 * the decision that came before it. One place, so that a plain request, a CONNECT and a tunnel
 * never disagree about what a code means.
 */
export function refusalOutcome(code: ErrorCode): AuditDecision | null {
  if (LIMIT_CODES.has(code)) return 'limited'
  const { status } = ERRORS[code]
  if (status === 407) return 'unauthenticated'
  if (status === 403) return 'deny'
  if (status === 400 || status === 404 || status === 421 || status === 431) return 'malformed'
  return null
}

/** The event type of an exchange that ended without going upstream, by its outcome. */
export function refusalEventType(outcome: AuditDecision): AuditEventType {
  if (outcome === 'unauthenticated') return 'auth.failed'
  if (outcome === 'deny') return 'request.decided'
  return 'request.rejected'
}
