import type { IncomingMessage } from 'node:http'
import { PassThrough, Transform, type Duplex, type Readable } from 'node:stream'
import { TollgateError } from '../../errors/tollgate-error.js'
import { PlaceholderSwap, swapPlaceholder } from '../../secrets/placeholder-swap.js'
import { Scrubber } from '../../secrets/scrubber.js'
import type { HeaderMap } from '../http/headers.js'
import { bodyTooLarge, declaredLength } from '../limits/body-limit.js'
import type { Exchange } from './exchange.js'

/**
 * A body with a declared length up to this size is read whole when a placeholder is swapped in
 * it, so it can be sent with its new, exact `Content-Length` (some upstreams refuse chunked
 * uploads). Larger ones are swapped as they stream and sent chunked, so the relay never holds
 * more than this per request.
 */
export const SWAP_BUFFER_BYTES = 1024 * 1024

const EMPTY = Buffer.alloc(0)

/** The allowing credential's placeholder and the secret it stands for, as bytes. */
export interface BodySwap {
  placeholder: Buffer
  secret: Buffer
}

/** What the relay does with one request's body on its way upstream. */
export interface RequestBody {
  /** Placeholders of credentials bound to other hosts: a body carrying one is refused. */
  stray: readonly string[]
  /** Set when the allowing credential's placeholder is swapped in this (uncompressed) body. */
  swap: BodySwap | null
  /** Most bytes the agent may send (`server.limits.requestBody`). */
  limitBytes: number
  /** The whole body, swapped, once `readSwappedBody` has read it. */
  buffered: Buffer | null
}

/** Whether the body is read whole before it is sent (see `SWAP_BUFFER_BYTES`). */
export function isBufferedSwap(req: IncomingMessage, body: RequestBody): boolean {
  const declared = declaredLength(req)
  return body.swap !== null && declared !== null && declared <= SWAP_BUFFER_BYTES
}

/**
 * Reads a small body whole, refuses it if it carries a stray placeholder, swaps the allowing
 * credential's placeholder and sets the new `Content-Length`. False when the exchange ended
 * while reading (the agent went away, or the slow-body timer answered it): nothing to send.
 */
export async function readSwappedBody(
  ex: Exchange,
  body: RequestBody,
  headers: HeaderMap,
): Promise<boolean> {
  // The decision is on record, so the exchange now ends as a completion, and a stalled body is
  // the agent's wait, not the relay's (see `request-deadline.ts`).
  ex.forwarded = true
  const raw = await readWhole(ex.req)
  if (raw === null || !body.swap) return false

  ex.bytesIn = raw.length
  if (body.stray.some((placeholder) => raw.includes(placeholder))) throw misuse()
  body.buffered = swapPlaceholder(raw, body.swap.placeholder, body.swap.secret)
  headers['content-length'] = String(body.buffered.length)
  return true
}

function readWhole(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(Buffer.concat(chunks)))
    // Settling twice is harmless: after `end` these change nothing.
    req.once('close', () => resolve(null))
    req.once('error', () => resolve(null))
  })
}

/**
 * Streams the agent's body upstream as it arrives, counting the agent's bytes for the audit
 * record and against the size limit. Where placeholders of credentials not bound to this host
 * exist, the body is watched for them: the bytes that could start one are held back, and a full
 * one aborts the request before it is sent (an exfiltration attempt, answered 403 like a
 * placeholder in a header). The allowing credential's placeholder is swapped on the way; the
 * length then changes, so the body goes chunked.
 */
export function streamBody(ex: Exchange, body: RequestBody, headers: HeaderMap): Readable {
  const stream =
    body.stray.length === 0 && body.swap === null ? new PassThrough() : inspectingBody(body)
  if (body.swap !== null) delete headers['content-length']
  stream.pause()

  // Counted before the pipe writes a chunk on, so the chunk that crosses the limit never does.
  countAgainstLimit(ex, stream, body.limitBytes)
  ex.req.pipe(stream)
  ex.req.once('aborted', () => stream.destroy(new Error('agent aborted the request body')))
  return stream
}

/**
 * Past the limit the upstream request is aborted with 413: the agent gets it if no response has
 * started, else its connection is cut (`ResponseRelay.onResponseError`).
 */
function countAgainstLimit(ex: Exchange, stream: Duplex, limitBytes: number): void {
  const count = (chunk: Buffer) => {
    ex.bytesIn += chunk.length
    if (ex.bytesIn <= limitBytes) return
    ex.req.off('data', count)
    ex.req.unpipe(stream)
    ex.req.pause()
    stream.destroy(bodyTooLarge(ex))
  }
  ex.req.on('data', count)
}

function inspectingBody(body: RequestBody): Transform {
  const watcher = body.stray.length > 0 ? new Scrubber(body.stray) : null
  const swap = body.swap ? new PlaceholderSwap(body.swap.placeholder, body.swap.secret) : null
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const seen = watcher ? watcher.push(chunk) : chunk
      if (watcher && watcher.replacements > 0) return done(misuse())
      done(null, swap ? swap.push(seen) : seen)
    },
    flush(done) {
      const seen = watcher ? watcher.end() : EMPTY
      done(null, swap ? Buffer.concat([swap.push(seen), swap.end()]) : seen)
    },
  })
}

function misuse(): TollgateError {
  return new TollgateError(
    'TOLLGATE_PLACEHOLDER_MISUSE',
    'the request body carries a credential placeholder not bound to this host',
  )
}
