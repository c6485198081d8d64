import type { AuditDecision, AuditEventInput } from '../../audit/event.js'
import { ERRORS, type ErrorCode } from '../../errors/codes.js'
import type { Logger } from '../../observability/logger.js'
import { refusalOutcome } from '../exchange/outcome.js'
import type { ListenerKind } from '../exchange/exchange.js'
import type { Caller } from '../identify.js'
import type { ListenerDeps } from './listener-deps.js'

/** What is known of a request the relay refused before it became an exchange. */
export interface DetachedRefusal {
  requestId: string
  code: ErrorCode
  /** The listener it came in on, for `tollgate_requests_total`. */
  listener: ListenerKind
  caller?: Caller | null
  method?: string
  host?: string | undefined
  port?: number | undefined
  rule?: string | null
  /** For a request Node's parser refused: the parser's error code (`HPE_…`). */
  upstreamError?: string
}

/**
 * How a refusal answered on the raw socket is classified: as `finishExchange` classifies the
 * same code, so the audit event, the log line and a plain request never disagree.
 */
export function detachedOutcome(code: ErrorCode): AuditDecision {
  return refusalOutcome(code) ?? 'error'
}

/**
 * Records a refusal answered on the raw socket: its audit event and its decision line, unless
 * it names no agent and its source has had its share of such records for now; then it is only
 * counted, into the summary `UnauthenticatedAudit` writes (the same bound `finishExchange`
 * applies to every other request).
 */
export function recordDetachedRefusal(
  deps: ListenerDeps,
  event: AuditEventInput,
  refusal: DetachedRefusal,
): void {
  const { requestId, code, caller } = refusal
  const agent = caller?.agent ?? null
  const client = event.client
  deps.metrics.countRefusal(detachedOutcome(code), refusal.listener)
  if (!deps.limits.unauthenticatedAudit.admit({ requestId, code, agent, client })) return

  void deps.audit.recordQuietly(event)
  logDetachedRefusal(deps.logger, refusal)
}

/**
 * The one decision line of a request answered on the raw socket (a CONNECT, a request Node's
 * parser refused), with the field names and the level `finishExchange` gives every other
 * request. It is built from the fields above only: a header value or the parser's message and
 * raw packet could carry the agent's token.
 */
export function logDetachedRefusal(logger: Logger, refusal: DetachedRefusal): void {
  const { requestId, code, caller } = refusal
  const decision = detachedOutcome(code)
  logger[decision === 'error' ? 'error' : 'warn'](
    {
      event: 'request',
      requestId,
      agent: caller?.agent,
      owner: caller?.owner,
      method: refusal.method,
      host: refusal.host,
      port: refusal.port,
      decision,
      code,
      rule: refusal.rule ?? undefined,
      status: ERRORS[code].status,
      upstreamError: refusal.upstreamError,
    },
    'request',
  )
}
