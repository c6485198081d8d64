import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { newExchange, type Exchange, type ListenerKind } from '../exchange/exchange.js'
import { finishExchange } from '../exchange/record.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import { closeDetached } from '../http/error-response.js'
import type { ListenerDeps } from './listener-deps.js'
import { whenSocketFree } from './pipelining.js'

/**
 * An `Upgrade` request on any listener. It is identified and decided like every other request
 * (by the listener's own `identify`), through a response object bound to the raw socket so a
 * refusal is the same JSON error; only an allowed WebSocket handshake is joined upstream. One
 * pipelined behind other requests waits for their answers (see `whenSocketFree`).
 */
export function handleUpgrade(
  deps: ListenerDeps,
  kind: ListenerKind,
  identify: (ex: Exchange) => void,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  // Node hands the socket over without an error listener; a reset must not crash the relay.
  socket.on('error', () => socket.destroy())
  whenSocketFree(socket, () => takeUpgrade(deps, kind, identify, req, socket, head))
}

function takeUpgrade(
  deps: ListenerDeps,
  kind: ListenerKind,
  identify: (ex: Exchange) => void,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket as Socket)

  const ex = newExchange(kind, req, res, deps.ids.next())
  ex.upgrade = { socket, head }
  const finish = once(() => finishExchange(deps, ex))
  socket.once('close', finish)
  // `res` carries only the relay's own answer (a refusal, or an upstream that failed the
  // handshake): once it is out the exchange is over, and recorded then, not whenever the
  // agent gets round to closing a socket that is no longer the server's.
  res.once('finish', () => {
    finish()
    closeDetached(socket)
  })
  try {
    identify(ex)
  } catch (error) {
    refuseExchange(deps, ex, error)
    return
  }
  relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
}

function once(run: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    run()
  }
}
