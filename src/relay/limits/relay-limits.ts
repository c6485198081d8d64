import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Counter, type Registry } from 'prom-client'
import type { TimeoutsConfig, TollgateConfig } from '../../config/types.js'
import type { ErrorCode } from '../../errors/codes.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { Exchange } from '../exchange/exchange.js'
import { ConnectionAdmission } from './connection-admission.js'
import { createLimitMetrics, type LimitMetrics } from './limit-metrics.js'
import { AgentRateLimiter } from './rate-limiter.js'
import { watchRequestBody } from './request-deadline.js'
import { UnauthenticatedAudit, type RefusalSummary } from './unauthenticated-audit.js'

/**
 * The relay's resource limits in one place, for the listeners: which connections are admitted,
 * how fast each agent may send requests, how slowly it may send a body, and how many refusals
 * that name no agent are audited one by one. Everything reads the current configuration on
 * use, so a reload applies at once (timeouts excepted: they are fixed when the servers start,
 * like the servers' own).
 */
export class RelayLimits {
  readonly admission: ConnectionAdmission
  readonly metrics: LimitMetrics
  /** Asked by every refusal before its audit event and decision line are written. */
  readonly unauthenticatedAudit: UnauthenticatedAudit
  #rates: AgentRateLimiter
  #timeouts: TimeoutsConfig

  /** @param report writes a summary of refusals left out of the trail (`refusal-summary.ts`). */
  constructor(
    config: () => TollgateConfig,
    timeouts: TimeoutsConfig,
    registry: Registry,
    report: (summary: RefusalSummary) => void,
  ) {
    // Sheds happen only once connections arrive, long after the metrics exist.
    this.admission = new ConnectionAdmission(
      () => config().server.limits,
      (reason) => this.metrics.connectionShed(reason),
    )
    this.metrics = createLimitMetrics(registry, this.admission)
    this.unauthenticatedAudit = new UnauthenticatedAudit(
      () => config().server.limits.unauthenticatedAudit,
      { report, suppressed: countSuppressed(registry) },
    )
    this.#rates = new AgentRateLimiter(config)
    this.#timeouts = timeouts
  }

  /** Counts a socket a listener accepted; for every listener's `connection` event. */
  admitConnection(socket: Socket): void {
    this.admission.admit(socket)
  }

  /**
   * First step for a request: one on a connection a cap refused is answered 503
   * TOLLGATE_OVERLOADED (and audited like any refusal), never served.
   */
  refuseIfOverloaded(socket: Duplex): void {
    if (this.admission.isRefused(socket)) throw new TollgateError('TOLLGATE_OVERLOADED')
  }

  /**
   * Charges one request to the identified caller's agent. Past its rate the request is refused
   * with 429 TOLLGATE_RATE_LIMITED and `Retry-After` (whole seconds until a request would pass).
   * One map lookup and some arithmetic: it runs for every request.
   */
  chargeRequest(ex: Exchange): void {
    const agent = ex.caller?.agent
    if (agent === undefined) return
    const wait = this.#rates.take(agent)
    if (wait === 0) return
    this.metrics.rateLimited()
    ex.res.setHeader('retry-after', String(wait))
    throw new TollgateError('TOLLGATE_RATE_LIMITED')
  }

  /** Arms the slow-body timeouts for a request that has a body (see `request-deadline.ts`). */
  watchBody(ex: Exchange): void {
    watchRequestBody(ex, this.#timeouts, (kind) => this.metrics.timedOut(kind))
  }

  /** For a graceful shutdown, once the listeners are closed: writes the pending summaries. */
  close(): void {
    this.unauthenticatedAudit.close()
  }
}

/** The counter of refusals left out of the trail; each is also in a `refusals.suppressed`. */
function countSuppressed(registry: Registry): (code: ErrorCode) => void {
  const counter = new Counter({
    name: 'tollgate_audit_refusals_suppressed_total',
    help: 'Refusals naming no agent recorded only in a refusals.suppressed summary, by code',
    labelNames: ['code'],
    registers: [registry],
  })
  return (code) => counter.inc({ code })
}
