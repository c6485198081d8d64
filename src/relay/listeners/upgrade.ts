import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { newExchange, type Exchange, type ListenerKind } from '../exchange/exchange.js'
import { finishExchange } from '../exchange/record.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import type { ListenerDeps } from './listener-deps.js'

/**
 * An `Upgrade` request on any listener. It is identified and decided like every other request
 * (by the listener's own `identify`), through a response object bound to the raw socket so a
 * refusal is the same JSON error; only an allowed WebSocket handshake is joined upstream.
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
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket as Socket)
  // This response is not the server's, so nothing else closes the socket after a refusal.
  res.once('finish', () => socket.end())

  const ex = newExchange(kind, req, res, deps.ids.next())
  ex.upgrade = { socket, head }
  socket.once('close', () => finishExchange(deps, ex))
  try {
    identify(ex)
  } catch (error) {
    refuseExchange(deps, ex, error)
    return
  }
  relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
}
