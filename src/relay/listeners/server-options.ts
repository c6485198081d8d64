import type { ServerOptions } from 'node:http'
import type { TimeoutsConfig } from '../../config/types.js'

/**
 * Options shared by every HTTP server the relay runs. Header size is bounded by the parser
 * (an oversized head gets 431, never silent truncation), and a slow sender is cut off.
 */
export function httpServerOptions(timeouts: TimeoutsConfig): ServerOptions {
  return {
    maxHeaderSize: 32 * 1024,
    headersTimeout: Math.min(timeouts.headersMs, 60_000),
    requestTimeout: 0,
    keepAliveTimeout: Math.min(timeouts.idleMs, 2_147_483_647),
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
    // HTTP/1.0 clients may omit Host; the relay answers a missing one itself, as JSON.
    requireHostHeader: false,
  }
}
