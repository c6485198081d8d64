import type { Duplex } from 'node:stream'
import type { Exchange } from '../exchange/exchange.js'
import { isFrameError } from './frame-error.js'
import { FrameScrubStream } from './frame-scrub-stream.js'

/**
 * Joins the agent's socket to an upstream WebSocket whose handshake carried an injected
 * credential: what the upstream sends is read frame by frame and scrubbed before the agent
 * sees it. What the agent sends passes as it is, since it cannot contain a value the agent
 * never had.
 *
 * Framing the relay cannot follow closes both sides, and the reason goes on the exchange's
 * completion event as `upstream_error`.
 */
export function joinScrubbed(
  ex: Exchange,
  socket: Duplex,
  upstream: Duplex,
  scrub: ReadonlyArray<string | Buffer>,
): void {
  const frames = new FrameScrubStream(scrub)
  upstream.on('data', (chunk: Buffer) => (ex.bytesOut += chunk.length))
  socket.on('data', (chunk: Buffer) => (ex.bytesIn += chunk.length))

  frames.on('error', (error) => {
    ex.upstreamError = isFrameError(error) ? error.fault : 'WS_SCRUB_FAILED'
    socket.destroy()
    upstream.destroy()
  })
  upstream.pipe(frames).pipe(socket)
  socket.pipe(upstream).on('error', () => socket.destroy())

  // A clean end reaches the agent through the pipe, after the last scrubbed bytes; only then
  // is the socket let go, so a silent agent cannot hold it half-open.
  socket.once('finish', () => socket.destroy())
  upstream.on('close', () => {
    if (!upstream.readableEnded) socket.destroy()
  })
  upstream.on('error', () => socket.destroy())
  socket.on('close', () => upstream.destroy())
}
