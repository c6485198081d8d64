import type { ServerOptions } from 'node:http'
import type { TimeoutsConfig } from '../../config/types.js'

/** The longest an agent may take over its request head, whatever `timeouts.headers` says. */
const MAX_HEAD_MS = 60_000

/**
 * Options shared by every HTTP server the relay runs. Header size is bounded by the parser
 * (an oversized head gets 431, never silent truncation), and a slow sender is cut off: the head
 * by Node's `headersTimeout`, a body by the relay's own timers (`limits/request-deadline.ts`).
 */
export function httpServerOptions(timeouts: TimeoutsConfig): ServerOptions {
  const headMs = Math.min(timeouts.headersMs, MAX_HEAD_MS)
  return {
    maxHeaderSize: 32 * 1024,
    headersTimeout: headMs,
    // The relay times bodies itself, so it can answer with its own 408 and audit the exchange.
    // Node's timer stays as a backstop, later than the relay's, for listeners that do not arm
    // them (Node answers it through `clientError`).
    requestTimeout: Math.min(timeouts.requestMs + headMs, 2_147_483_647),
    // Node looks for expired heads only this often (30 s by default), which would let a slow
    // head linger far past `headersTimeout`.
    connectionsCheckingInterval: Math.max(100, Math.min(Math.floor(headMs / 4), 1000)),
    keepAliveTimeout: Math.min(timeouts.idleMs, 2_147_483_647),
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
    // HTTP/1.0 clients may omit Host; the relay answers a missing one itself, as JSON.
    requireHostHeader: false,
  }
}
