import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AuditEventInput } from '../../audit/event.js'
import type { ErrorCode } from '../../errors/codes.js'
import type { ListenerKind } from '../exchange/exchange.js'
import { callerAuditFields, type Caller } from '../identify.js'
import { sendDetachedError, sendSocketError } from '../http/error-response.js'
import type { ListenerDeps } from './listener-deps.js'
import { whenSocketFree } from './pipelining.js'
import { detachedOutcome, recordDetachedRefusal } from './refusal-log.js'

/**
 * Requests Node's parser refuses before the relay sees them (conflicting Content-Length and
 * Transfer-Encoding, bare CR/LF, an oversized head, a head sent too slowly) still get the
 * relay's JSON error with a stable code, an audit event and a decision log line, never Node's
 * bare 400 or a silent reset.
 */
export function handleClientError(
  deps: ListenerDeps,
  listener: ListenerKind,
  error: Error,
  socket: Duplex,
): void {
  socket.on('error', () => socket.destroy())
  const code = codeFor(error)
  if (code === 'TOLLGATE_REQUEST_TIMEOUT') deps.limits.metrics.timedOut('head')
  // A socket that never sent a byte made no request: nothing to answer or audit. Writing an
  // event for each would let a flood of idle sockets flood the audit trail too. Once the
  // socket is answered, the parser reports every later chunk as one more error: not audited.
  const reset = (error as { code?: string }).code === 'ECONNRESET'
  if (isSilent(socket) || !socket.writable || reset) {
    socket.destroy()
    return
  }

  const refuse = () => refuseUnparsed(deps, listener, error, code, socket)
  const pending = currentResponse(socket)
  // The bad bytes are the body of the request being answered: that request is broken. Raw
  // bytes written after its answer has begun would land in the middle of it.
  if (pending === null || !pending.req.complete) {
    if (pending?.headersSent === true) socket.destroy()
    else refuse()
    return
  }
  // The answer in progress closes the connection: nothing after it is read, or answered.
  if (!pending.shouldKeepAlive) {
    socket.pause()
    return
  }
  // A request pipelined ahead of the bad bytes is still being answered. Its answer goes first,
  // whole: written now, the refusal would land before it or in the middle of it, and the
  // agent would read it as the answer to that request. Paused, the parser stays quiet.
  socket.pause()
  pending.once('close', () => {
    if (!pending.writableFinished) {
      socket.destroy()
      return
    }
    socket.resume()
    refuse()
  })
}

function refuseUnparsed(
  deps: ListenerDeps,
  listener: ListenerKind,
  error: Error,
  code: ErrorCode,
  socket: Duplex,
): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const requestId = deps.ids.next()
  const upstreamError = parserCode(error)
  const event: AuditEventInput = {
    type: 'request.rejected',
    request_id: requestId,
    decision: detachedOutcome(code),
    code,
    upstream_error: upstreamError,
    client: remoteAddress(socket),
    policy_version: deps.state.current.version,
  }
  recordDetachedRefusal(deps, event, { requestId, code, listener, upstreamError })
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
  const code = 'TOLLGATE_OVERLOADED'
  const event: AuditEventInput = {
    type: 'request.rejected',
    request_id: requestId,
    decision: detachedOutcome(code),
    code,
    method: 'CONNECT',
    client: req.socket.remoteAddress ?? null,
    policy_version: deps.state.current.version,
  }
  recordDetachedRefusal(deps, event, { requestId, code, listener: 'forward', method: 'CONNECT' })
  sendDetachedError(socket, {
    code: 'TOLLGATE_OVERLOADED',
    message: 'the relay holds as many connections as it accepts; try again shortly',
    requestId,
  })
}

/**
 * A CONNECT where the relay opens no tunnel (inside an intercepted tunnel; on the reverse
 * listener): unheard, Node would drop the connection without a word. Answered 400 with the
 * relay's JSON error and recorded, for the caller when one is known (a tunnel's), once the
 * answers to requests pipelined ahead of it are out.
 */
export function refuseMisplacedConnect(
  deps: ListenerDeps,
  listener: ListenerKind,
  req: IncomingMessage,
  socket: Duplex,
  caller: Caller | null,
): void {
  socket.on('error', () => socket.destroy())
  whenSocketFree(socket, () => answerMisplacedConnect(deps, listener, req, socket, caller))
}

function answerMisplacedConnect(
  deps: ListenerDeps,
  listener: ListenerKind,
  req: IncomingMessage,
  socket: Duplex,
  caller: Caller | null,
): void {
  const requestId = deps.ids.next()
  const code = 'TOLLGATE_MALFORMED_REQUEST'
  const event: AuditEventInput = {
    type: 'request.rejected',
    request_id: requestId,
    ...callerAuditFields(caller),
    decision: detachedOutcome(code),
    code,
    method: 'CONNECT',
    client: req.socket.remoteAddress ?? null,
    policy_version: deps.state.current.version,
  }
  recordDetachedRefusal(deps, event, { requestId, code, listener, caller, method: 'CONNECT' })
  sendDetachedError(socket, { code, message: 'no tunnel is opened here', requestId })
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
