import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { ERROR_HEADER, ERRORS, type ErrorCode } from '../../errors/codes.js'

export const REQUEST_ID_HEADER = 'tollgate-request-id'

export interface ErrorBody {
  code: ErrorCode
  message: string
  requestId: string
  rule?: string | null
  /**
   * Set on the reverse listener, which is not a proxy to its clients: there an authentication
   * failure is a 401 with a Bearer challenge. (Fetch-based SDKs turn any 407 into an opaque
   * network error, so the agent would never see why it was refused.)
   */
  asOrigin?: boolean
}

function statusOf(error: ErrorBody): number {
  const status = ERRORS[error.code].status
  return status === 407 && error.asOrigin ? 401 : status
}

function jsonBody(error: ErrorBody): string {
  const body = { error: { code: error.code, message: error.message, rule: error.rule ?? null } }
  return JSON.stringify({ ...body, request_id: error.requestId }) + '\n'
}

function errorHeaders(error: ErrorBody, length: number): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': length,
    [ERROR_HEADER]: error.code,
    [REQUEST_ID_HEADER]: error.requestId,
  }
  const status = statusOf(error)
  if (status === 407) headers['proxy-authenticate'] = 'Basic realm="tollgate", charset="UTF-8"'
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="tollgate"'
  return headers
}

/**
 * Answers with the relay's own error: JSON body, code in a header, never an HTML page. If the
 * response has already started (the upstream failed mid-body), the only honest signal left is
 * to cut the connection.
 */
export function sendError(res: ServerResponse, error: ErrorBody): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = jsonBody(error)
  const status = statusOf(error)
  if (closesConnection(error.code, status)) res.shouldKeepAlive = false
  res.writeHead(status, errorHeaders(error, Buffer.byteLength(body)))
  res.end(body)
}

/**
 * Refusals that end the connection. A rate-limited agent keeps its own: closing it would make
 * the relay pay for a new handshake on every retry. Past a connection cap the connection itself
 * is the excess, and after a 408 the rest of the body is still on its way.
 */
function closesConnection(code: ErrorCode, status: number): boolean {
  if (code === 'TOLLGATE_RATE_LIMITED') return false
  return status === 401 || status === 407 || status === 408 || status === 421 || status >= 429
}

/** The same error on a raw socket: CONNECT and upgrade requests have no response object. */
export function sendSocketError(socket: Duplex, error: ErrorBody): void {
  const body = jsonBody(error)
  const status = statusOf(error)
  const headers = { ...errorHeaders(error, Buffer.byteLength(body)), connection: 'close' }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  const head = `HTTP/1.1 ${status} ${statusText(status)}\r\n${lines.join('\r\n')}\r\n\r\n`
  socket.end(head + body)
}

/**
 * A refusal on a socket no HTTP server owns any more (a CONNECT, once Node has handed it
 * over): nothing else will close it, and Node gives it no timeout. See `closeDetached`.
 */
export function sendDetachedError(socket: Duplex, error: ErrorBody): void {
  sendSocketError(socket, error)
  closeDetached(socket)
}

// Long enough for an agent to read a refusal before its socket is cut; short enough that a
// relay stopping gracefully (which waits for every socket) is not held up by one.
const DETACHED_LINGER_MS = 2000

/**
 * Ends a detached socket (a CONNECT or upgrade request the relay answered itself) once what
 * was written is out. Left paused, bytes the agent sent after the answer would hide its end
 * of the connection, and the socket would stay open for ever: read and dropped, they let it
 * close; an agent that keeps it open anyway is cut after a short linger.
 */
export function closeDetached(socket: Duplex): void {
  if (!socket.writableEnded) socket.end()
  socket.resume()
  const timer = setTimeout(() => socket.destroy(), DETACHED_LINGER_MS)
  socket.once('close', () => clearTimeout(timer))
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    408: 'Request Timeout',
    407: 'Proxy Authentication Required',
    421: 'Misdirected Request',
    429: 'Too Many Requests',
    431: 'Request Header Fields Too Large',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  }
  return texts[status] ?? 'Error'
}
