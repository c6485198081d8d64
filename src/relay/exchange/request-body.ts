import type { IncomingMessage } from 'node:http'
import { Transform, type Duplex, type Readable } from 'node:stream'
import { TollgateError } from '../../errors/tollgate-error.js'
import { PlaceholderSwap, swapPlaceholder } from '../../secrets/placeholder-swap.js'
import { Scrubber } from '../../secrets/scrubber.js'
import { decoderFor, encoderFor, type ContentCoding } from '../http/content-coding.js'
import type { HeaderMap } from '../http/headers.js'
import { bodyTooLarge, declaredLength } from '../limits/body-limit.js'
import type { Exchange } from './exchange.js'
import type { OverrideScanner } from './body-override.js'
import { TokenWatch, holdsWholeToken } from './token-watch.js'

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

export interface BodyOverride {
  scanner: () => OverrideScanner
  refuse: (method: string) => TollgateError | null
}

/** What the relay does with one request's body on its way upstream. */
export interface RequestBody {
  /** Placeholders of credentials bound to other hosts: a body carrying one is refused. */
  stray: readonly string[]
  /** Set when the allowing credential's placeholder is swapped in this body. */
  swap: BodySwap | null
  /**
   * The body's content coding when it is inspected or swapped: it is decoded for that, and
   * encoded again on its way up. null: sent as it is (identity, or nothing to look for).
   */
  coding: ContentCoding | null
  /**
   * For a body an upstream may read `_method` from (a form, JSON): how to find it, and the
   * refusal for a method named there (null where the policy allows it). null: no such body.
   */
  override: BodyOverride | null
  /** Most bytes the agent may send (`server.limits.requestBody`). */
  limitBytes: number
  /** The whole body, swapped, once `readSwappedBody` has read it. */
  buffered: Buffer | null
}

/** Whether the body is read whole before it is sent (see `SWAP_BUFFER_BYTES`). */
export function isBufferedSwap(req: IncomingMessage, body: RequestBody): boolean {
  const declared = declaredLength(req)
  return (
    body.swap !== null && body.coding === null && declared !== null && declared <= SWAP_BUFFER_BYTES
  )
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
  if (holdsWholeToken(raw)) throw new TollgateError('TOLLGATE_TOKEN_EXFILTRATION')
  if (body.override) {
    const scanner = body.override.scanner()
    refuseOverrides(body, [...scanner.push(raw), ...scanner.end()])
  }
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
 * record and against the size limit, and watching it for Tollgate tokens (`TokenWatch`: one
 * aborts the request, like a token in a header). Where placeholders of credentials not bound
 * to this host exist, the body is watched for them too: the bytes that could start one are held
 * back, and a full one aborts the request before it is sent (an exfiltration attempt, answered
 * 403 like a placeholder in a header). The allowing credential's placeholder is swapped on the
 * way; the length then changes, so the body goes chunked.
 */
export function streamBody(ex: Exchange, body: RequestBody, headers: HeaderMap): Readable {
  const { first, last } = inspectingChain(ex, body)
  if (body.swap !== null || body.coding !== null) delete headers['content-length']
  last.pause()

  // Counted before the pipe writes a chunk on, so the chunk that crosses the limit never does.
  countAgainstLimit(ex, first, last, body.limitBytes)
  ex.req.pipe(first)
  // `close` without `complete` is an agent that left mid-body, before or after this point.
  const onGone = () => {
    if (!ex.req.complete) last.destroy(new Error('agent aborted the request body'))
  }
  if (ex.req.destroyed) onGone()
  else ex.req.once('close', onGone)
  return last
}

interface Chain {
  /** Where the agent's bytes go in. */
  first: Duplex
  /** What is sent upstream; an error anywhere in the chain destroys it with that error. */
  last: Duplex
}

/**
 * The inspector, with a decoder before it and an encoder after it for a compressed body: a
 * gzipped placeholder would otherwise pass the check unseen, and a gzipped one bound here would
 * never be swapped. The decoded bytes count against the size limit too (a small compressed
 * body can inflate without bound); a body that does not decode is refused as malformed.
 */
function inspectingChain(ex: Exchange, body: RequestBody): Chain {
  const inspector = inspectingBody(body)
  if (body.coding === null) return { first: inspector, last: inspector }

  const decoder = decoderFor(body.coding)
  const encoder = encoderFor(body.coding)
  let decoded = 0
  decoder.on('data', (chunk: Buffer) => {
    decoded += chunk.length
    if (decoded > body.limitBytes) encoder.destroy(bodyTooLarge(ex))
  })
  // Plain pipes, with each stage's error carried to the end by hand: `pipeline` would destroy
  // the encoder with zlib's own error first, and the agent would be told the upstream failed.
  const fail = (error: Error) => {
    if (!encoder.destroyed) encoder.destroy(error)
  }
  decoder.once('error', () => fail(undecodable(body.coding)))
  inspector.once('error', fail)
  decoder.pipe(inspector).pipe(encoder)
  // Once nothing more goes up, the stages before stop too (and free zlib's buffers).
  encoder.once('close', () => {
    decoder.destroy()
    inspector.destroy()
  })
  return { first: decoder, last: encoder }
}

/**
 * Past the limit the upstream request is aborted with 413: the agent gets it if no response has
 * started, else its connection is cut (`ResponseRelay.onResponseError`).
 */
function countAgainstLimit(ex: Exchange, first: Duplex, last: Duplex, limitBytes: number): void {
  const count = (chunk: Buffer) => {
    ex.bytesIn += chunk.length
    if (ex.bytesIn <= limitBytes) return
    ex.req.off('data', count)
    ex.req.unpipe(first)
    ex.req.pause()
    last.destroy(bodyTooLarge(ex))
  }
  ex.req.on('data', count)
}

/**
 * While a body is scanned for `_method`, its last bytes are held back: a field is only known
 * once it ends, and if it ends the body, the upstream must not have the whole request by then
 * (with a `Content-Length` it would act on it even if the relay then aborted). An override
 * field that matters fits in this many bytes (`MAX_KEPT` of name and of value, and a little).
 */
const OVERRIDE_HOLD_BYTES = 1024

function inspectingBody(body: RequestBody): Transform {
  const watcher = body.stray.length > 0 ? new Scrubber(body.stray) : null
  const swap = body.swap ? new PlaceholderSwap(body.swap.placeholder, body.swap.secret) : null
  const overrides = body.override ? body.override.scanner() : null
  const tokens = new TokenWatch()
  let held = EMPTY
  const release = (out: Buffer, final: boolean): Buffer => {
    if (!overrides) return out
    const all = held.length === 0 ? out : Buffer.concat([held, out])
    const keep = final ? 0 : Math.min(all.length, OVERRIDE_HOLD_BYTES)
    held = Buffer.from(all.subarray(all.length - keep))
    return all.subarray(0, all.length - keep)
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        if (overrides) refuseOverrides(body, overrides.push(chunk))
      } catch (error) {
        return done(error as Error)
      }
      const seen = watcher ? watcher.push(chunk) : chunk
      if (watcher && watcher.replacements > 0) return done(misuse())
      let clean: Buffer
      try {
        clean = tokens.push(seen)
      } catch (error) {
        return done(error as Error)
      }
      done(null, release(swap ? swap.push(clean) : clean, false))
    },
    flush(done) {
      let clean: Buffer
      try {
        if (overrides) refuseOverrides(body, overrides.end())
        const seen = watcher ? watcher.end() : EMPTY
        clean = Buffer.concat([tokens.push(seen), tokens.end()])
      } catch (error) {
        return done(error as Error)
      }
      done(null, release(swap ? Buffer.concat([swap.push(clean), swap.end()]) : clean, true))
    },
  })
}

function refuseOverrides(body: RequestBody, methods: readonly string[]): void {
  for (const method of methods) {
    const refusal = body.override?.refuse(method) ?? null
    if (refusal) throw refusal
  }
}

function undecodable(coding: ContentCoding | null): TollgateError {
  return new TollgateError(
    'TOLLGATE_MALFORMED_REQUEST',
    `the request body is not valid ${coding ?? 'data'} for its Content-Encoding`,
  )
}

function misuse(): TollgateError {
  return new TollgateError(
    'TOLLGATE_PLACEHOLDER_MISUSE',
    'the request body carries a credential placeholder not bound to this host',
  )
}
