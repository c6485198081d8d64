import type { IncomingMessage } from 'node:http'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { Exchange } from '../exchange/exchange.js'

/**
 * Refuses a request whose declared `Content-Length` is over `server.limits.requestBody`, before
 * its decision is recorded as allowed and before a byte goes upstream. A chunked body has no
 * declared length; it is counted as it streams instead (`request-body.ts`).
 */
export function refuseDeclaredOversize(ex: Exchange, limitBytes: number): void {
  const declared = declaredLength(ex.req)
  if (declared !== null && declared > limitBytes) throw bodyTooLarge(ex)
}

/** The declared body length, or null for a chunked body or none. */
export function declaredLength(req: IncomingMessage): number | null {
  const length = req.headers['content-length']
  // Node's parser has refused malformed and conflicting lengths already.
  return length === undefined ? null : Number(length)
}

/**
 * The 413 for a body over the limit. The connection closes after it: the rest of the body is
 * still on its way, and reading it only to throw it away is what the limit is there to avoid.
 */
export function bodyTooLarge(ex: Exchange): TollgateError {
  ex.res.shouldKeepAlive = false
  return new TollgateError('TOLLGATE_BODY_TOO_LARGE')
}
