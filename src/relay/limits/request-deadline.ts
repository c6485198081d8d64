import type { IncomingMessage } from 'node:http'
import type { TimeoutsConfig } from '../../config/types.js'
import { ERRORS } from '../../errors/codes.js'
import type { Exchange } from '../exchange/exchange.js'
import { sendError } from '../http/error-response.js'
import type { TimeoutKind } from './limit-metrics.js'

/**
 * Cuts an agent that sends its request body too slowly: silent for longer than
 * `requestBodyIdleMs`, or still sending after `requestMs` in all. Without this a body that
 * trickles one byte at a time holds a connection, an upstream connection and a slot in the
 * agent's connection cap for as long as the agent likes (Node's own `requestTimeout` is off,
 * see `server-options.ts`). Requests without a body cost nothing here.
 *
 * When the relay can still answer, the agent gets 408 TOLLGATE_REQUEST_TIMEOUT and the exchange
 * records that code; when the upstream's answer has already begun, the connection is cut. While
 * the relay itself is still deciding (awaiting the audit write) the wait is the relay's, not the
 * agent's, and the timer looks again later.
 */
export function watchRequestBody(
  ex: Exchange,
  timeouts: TimeoutsConfig,
  onTimeout: (kind: TimeoutKind) => void,
): void {
  const { req } = ex
  if (!hasRequestBody(req)) return
  const { requestBodyIdleMs, requestMs } = timeouts

  // The socket's own timer sees every byte in either direction, so it measures silence
  // without a `data` listener, which would start the body flowing before the decision.
  const onIdle = () => {
    const outcome = cutSlowRequest(ex, 'body_idle')
    if (outcome === 'later') req.socket.setTimeout(requestBodyIdleMs)
    if (outcome === 'cut') onTimeout('body_idle')
  }
  req.setTimeout(requestBodyIdleMs, onIdle)
  let overall = setTimeout(function onOverall() {
    const outcome = cutSlowRequest(ex, 'request')
    if (outcome === 'later') overall = setTimeout(onOverall, requestBodyIdleMs)
    if (outcome === 'cut') onTimeout('request')
  }, requestMs)

  const { socket } = req
  const done = () => {
    clearTimeout(overall)
    req.off('timeout', onIdle)
    req.off('end', done)
    req.off('close', done)
    socket.off('close', done)
    // Node arms its keep-alive timer on the same socket once the response is done.
    if (!ex.res.writableFinished) socket.setTimeout(0)
  }
  req.once('end', done)
  req.once('close', done)
  // A request refused before its body was read (413 on a declared length) emits neither `end`
  // nor `close` once its connection is gone; the timer would hold the exchange until it fired.
  socket.once('close', done)
}

/** Whether the request has a body to wait for (the same test the forwarder uses). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Ends a slow request. `later`: the request is identified and allowed and the relay awaits its
 * own audit write, so the wait is not the agent's; `none`: the body completed meanwhile.
 */
function cutSlowRequest(ex: Exchange, kind: TimeoutKind): 'cut' | 'later' | 'none' {
  const { req, res } = ex
  if (req.complete || req.socket.destroyed) return 'none'
  if (!ex.forwarded && !res.headersSent && ex.code === null) return 'later'

  // The answer has begun (the upstream's, or a refusal while Node drains the rest of the
  // body): nothing honest can be sent any more, only the connection cut.
  if (res.headersSent) {
    if (!res.writableFinished) ex.code = 'TOLLGATE_REQUEST_TIMEOUT'
    req.socket.destroy()
    return 'cut'
  }
  ex.code = 'TOLLGATE_REQUEST_TIMEOUT'
  ex.status = ERRORS.TOLLGATE_REQUEST_TIMEOUT.status
  res.shouldKeepAlive = false
  sendError(res, {
    code: ex.code,
    message:
      kind === 'body_idle' ? 'the request body stalled' : 'the request took too long to send',
    requestId: ex.id,
    rule: ex.decision?.rule?.id ?? null,
    asOrigin: ex.listener === 'reverse',
  })
  return 'cut'
}
