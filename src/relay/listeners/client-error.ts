import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../../errors/codes.js'
import { sendSocketError } from '../http/error-response.js'
import type { ListenerDeps } from './listener-deps.js'

/**
 * Requests Node's parser refuses before the relay sees them (conflicting Content-Length and
 * Transfer-Encoding, bare CR/LF, an oversized head, a head sent too slowly) still get the
 * relay's JSON error with a stable code and an audit event, never Node's bare 400 or a silent
 * reset.
 */
export function handleClientError(deps: ListenerDeps, error: Error, socket: Duplex): void {
  socket.on('error', () => socket.destroy())
  const code = codeFor(error)
  if (code === 'TOLLGATE_REQUEST_TIMEOUT') deps.limits.metrics.timedOut('head')
  // A socket that never sent a byte made no request: nothing to answer or audit. Writing an
  // event for each would let a flood of idle sockets flood the audit trail too.
  if (isSilent(socket)) {
    socket.destroy()
    return
  }

  const requestId = deps.ids.next()
  void deps.audit.recordQuietly({
    type: 'request.rejected',
    request_id: requestId,
    decision: 'malformed',
    code,
    upstream_error: parserCode(error),
    client: remoteAddress(socket),
    policy_version: deps.state.current.version,
  })
  // Raw bytes written after a response has begun would land in the middle of it.
  const busy = currentResponse(socket)?.headersSent === true
  if (busy || !socket.writable || (error as { code?: string }).code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  sendSocketError(socket, { code, message: messageFor(code), requestId })
}

/**
 * A CONNECT on a connection a cap refused (see `ConnectionAdmission`): 503 TOLLGATE_OVERLOADED
 * on the raw socket and an audit event, without identifying the caller, because shedding load
 * is the point.
 */
export function refuseOverloadedConnect(
  deps: ListenerDeps,
  req: IncomingMessage,
  socket: Duplex,
): void {
  socket.on('error', () => socket.destroy())
  const requestId = deps.ids.next()
  void deps.audit.recordQuietly({
    type: 'request.rejected',
    request_id: requestId,
    decision: 'error',
    code: 'TOLLGATE_OVERLOADED',
    method: 'CONNECT',
    client: req.socket.remoteAddress ?? null,
    policy_version: deps.state.current.version,
  })
  sendSocketError(socket, {
    code: 'TOLLGATE_OVERLOADED',
    message: 'the relay holds as many connections as it accepts; try again shortly',
    requestId,
  })
}

function isSilent(socket: Duplex): boolean {
  const { bytesRead } = socket as { bytesRead?: number }
  return bytesRead === 0
}

function currentResponse(socket: Duplex): ServerResponse | null {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? null
}

function remoteAddress(socket: Duplex): string | null {
  return (socket as { remoteAddress?: string }).remoteAddress ?? null
}

function parserCode(error: Error): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}

function codeFor(error: Error): ErrorCode {
  const code = parserCode(error)
  if (code === 'HPE_HEADER_OVERFLOW') return 'TOLLGATE_HEADERS_TOO_LARGE'
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'TOLLGATE_REQUEST_TIMEOUT'
  return 'TOLLGATE_MALFORMED_REQUEST'
}

function messageFor(code: ErrorCode): string {
  if (code === 'TOLLGATE_HEADERS_TOO_LARGE')
    return 'the request head is larger than the relay accepts'
  if (code === 'TOLLGATE_REQUEST_TIMEOUT') return 'the request did not arrive in time'
  return 'the request could not be parsed as strict HTTP/1.1'
}
