import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../../errors/codes.js'
import { sendSocketError } from '../http/error-response.js'
import type { ListenerDeps } from './listener-deps.js'

/**
 * Requests Node's parser refuses before the relay sees them (conflicting Content-Length and
 * Transfer-Encoding, bare CR/LF, an oversized head, a slow sender) still get the relay's JSON
 * error with a stable code and an audit event, never Node's bare 400 or a silent reset.
 */
export function handleClientError(deps: ListenerDeps, error: Error, socket: Duplex): void {
  socket.on('error', () => socket.destroy())
  const code = codeFor(error)
  const requestId = deps.ids.next()

  void deps.audit.recordQuietly({
    type: 'request.rejected',
    request_id: requestId,
    decision: 'malformed',
    code,
    upstream_error: parserCode(error),
    policy_version: deps.state.current.version,
  })
  if (!socket.writable || (error as { code?: string }).code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  sendSocketError(socket, { code, message: messageFor(code), requestId })
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
  if (code === 'TOLLGATE_REQUEST_TIMEOUT') return 'the request head did not arrive in time'
  return 'the request could not be parsed as strict HTTP/1.1'
}
