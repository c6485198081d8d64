import type { IncomingMessage, ServerResponse } from 'node:http'
import { TollgateError } from '../../errors/tollgate-error.js'

/** What the framing check reads of a request: its version and its headers as sent. */
export interface RequestHead {
  httpVersion: string
  rawHeaders: string[]
}

/**
 * Refuses the framing Node's parser lets through but RFC 9112 does not: a version other than
 * HTTP/1.0 or 1.1 (Node reads `HTTP/2.0` and HTTP/0.9 request lines as requests), a
 * `Transfer-Encoding` on HTTP/1.0, one that is anything but a single `chunked` (Node decodes
 * `gzip, chunked` as chunked and the coding before it is lost), and an `Expect` other than
 * `100-continue`. The relay re-frames what it forwards, so the upstream would not disagree with
 * it; but a hop that reads these differently is how requests are smuggled, and the relay is
 * the one place that sees them as the agent sent them.
 *
 * @throws TollgateError `TOLLGATE_MALFORMED_REQUEST`
 */
export function requireStrictFraming(head: RequestHead): void {
  if (head.httpVersion !== '1.1' && head.httpVersion !== '1.0') {
    throw malformed('only HTTP/1.0 and HTTP/1.1 requests are relayed')
  }
  const codings = valuesOf(head.rawHeaders, 'transfer-encoding')
  if (codings.length > 0 && head.httpVersion === '1.0') {
    throw malformed('Transfer-Encoding is not allowed on an HTTP/1.0 request')
  }
  if (codings.length > 1 || (codings.length === 1 && !isToken(codings[0], 'chunked'))) {
    throw malformed('the only Transfer-Encoding relayed is a single chunked')
  }
  const expectations = valuesOf(head.rawHeaders, 'expect')
  const continues = expectations.length === 1 && isToken(expectations[0], '100-continue')
  if (expectations.length > 0 && !continues) {
    throw malformed('the only expectation relayed is 100-continue')
  }
}

/**
 * The same check for a request the relay is about to answer: a refusal closes the connection,
 * since a body framed in a way the relay refused cannot be skipped with confidence.
 */
export function requireStrictRequest(req: IncomingMessage, res: ServerResponse): void {
  try {
    requireStrictFraming(req)
  } catch (error) {
    res.shouldKeepAlive = false
    throw error
  }
}

function valuesOf(rawHeaders: string[], name: string): string[] {
  const values: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === name) values.push(rawHeaders[i + 1] ?? '')
  }
  return values
}

// Only spaces and tabs are optional whitespace; a vertical tab or form feed is not.
function isToken(value: string | undefined, token: string): boolean {
  return (value ?? '').replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase() === token
}

function malformed(message: string): TollgateError {
  return new TollgateError('TOLLGATE_MALFORMED_REQUEST', message)
}
