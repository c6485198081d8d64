import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The relay's Prometheus metrics, on a registry of its own (never prom-client's global one, so
 * two relays in one test process do not share counters).
 */
export class RelayMetrics {
  readonly registry = new Registry()
  #requests: Counter<'decision' | 'listener'>
  #duration: Histogram<'decision'>
  #tunnels: Gauge
  #auditFailures: Counter

  constructor() {
    this.#requests = new Counter({
      name: 'tollgate_requests_total',
      help: 'Requests seen by the relay, by outcome',
      labelNames: ['decision', 'listener'],
      registers: [this.registry],
    })
    this.#duration = new Histogram({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request start to response end, by outcome',
      labelNames: ['decision'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    })
    this.#tunnels = new Gauge({
      name: 'tollgate_open_tunnels',
      help: 'CONNECT tunnels currently open',
      registers: [this.registry],
    })
    this.#auditFailures = new Counter({
      name: 'tollgate_audit_write_failures_total',
      help: 'Audit writes that failed (each refused a request)',
      registers: [this.registry],
    })
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_process_' })
  }

  observeRequest(decision: string, listener: string, seconds: number): void {
    this.#requests.inc({ decision, listener })
    this.#duration.observe({ decision }, seconds)
  }

  /**
   * A request refused on the raw socket before it became an exchange (one Node's parser
   * refused, a CONNECT refused): counted, without a duration, which would only say how fast a
   * refusal is written.
   */
  countRefusal(decision: string, listener: string): void {
    this.#requests.inc({ decision, listener })
  }

  tunnelOpened(): void {
    this.#tunnels.inc()
  }

  tunnelClosed(): void {
    this.#tunnels.dec()
  }

  auditFailed(): void {
    this.#auditFailures.inc()
  }
}
