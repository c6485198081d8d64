import { Counter, Gauge, type Registry } from 'prom-client'

/** Why a connection was closed before it could make a request. */
export type ShedReason = 'process_cap' | 'address_cap' | 'evicted'

/** Which limit cut a request that was too slow to arrive. */
export type TimeoutKind = 'head' | 'body_idle' | 'request'

/** What the limits report: connections shed, requests refused for rate, slow senders cut. */
export interface LimitMetrics {
  connectionShed(reason: ShedReason): void
  rateLimited(): void
  timedOut(kind: TimeoutKind): void
}

/** Counts of open connections, read when the metrics are scraped. */
export interface ConnectionCounts {
  readonly open: number
  readonly unauthenticated: number
}

/**
 * The limits' metrics, registered on the relay's own registry (one relay per registry). The
 * gauges are read at scrape time, so the request path never touches them.
 */
export function createLimitMetrics(registry: Registry, counts: ConnectionCounts): LimitMetrics {
  const shed = new Counter({
    name: 'tollgate_connections_shed_total',
    help: 'Client connections closed by a connection cap before they made a request, by reason',
    labelNames: ['reason'],
    registers: [registry],
  })
  const limited = new Counter({
    name: 'tollgate_rate_limited_total',
    help: 'Requests refused with 429 TOLLGATE_RATE_LIMITED',
    registers: [registry],
  })
  const timeouts = new Counter({
    name: 'tollgate_request_timeouts_total',
    help: 'Requests cut because the agent sent them too slowly, by which limit',
    labelNames: ['kind'],
    registers: [registry],
  })
  registerGauges(registry, counts)

  return {
    connectionShed: (reason) => shed.inc({ reason }),
    rateLimited: () => limited.inc(),
    timedOut: (kind) => timeouts.inc({ kind }),
  }
}

function registerGauges(registry: Registry, counts: ConnectionCounts): void {
  new Gauge({
    name: 'tollgate_open_connections',
    help: 'Client connections open on every relay listener',
    registers: [registry],
    collect() {
      this.set(counts.open)
    },
  })
  new Gauge({
    name: 'tollgate_unauthenticated_connections',
    help: 'Client connections that have not yet made a request with a valid token',
    registers: [registry],
    collect() {
      this.set(counts.unauthenticated)
    },
  })
}
