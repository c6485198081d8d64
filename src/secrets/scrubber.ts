import { Transform, type TransformCallback } from 'node:stream'

/** What an injected value in a response header becomes. */
export const HEADER_REDACTION = '[REDACTED]'

const STAR = 0x2a
const EMPTY = Buffer.alloc(0)

/** A half-open byte range [start, end) to mask, relative to the current buffer. */
type Range = [start: number, end: number]

/**
 * Replaces every occurrence of each value in the header values with `[REDACTED]`, in place.
 * Values are tried longest first, so a value containing a shorter one is redacted whole.
 * Returns how many occurrences were replaced.
 */
export function scrubHeaders(
  headers: Record<string, string | string[] | undefined>,
  values: readonly string[],
): number {
  const ordered = usableValues(values)
  let replaced = 0
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    // Nearly every header holds no value at all: looking first keeps this allocation-free.
    if (value === undefined || !holdsAny(value, ordered)) continue
    const items = Array.isArray(value) ? value : [value]
    const scrubbed = items.map((item) => {
      const result = redactAll(item, ordered)
      replaced += result.count
      return result.text
    })
    headers[name] = Array.isArray(value) ? scrubbed : scrubbed[0]
  }
  return replaced
}

function holdsAny(value: string | string[], values: readonly string[]): boolean {
  if (typeof value === 'string') return values.some((v) => value.includes(v))
  return value.some((item) => values.some((v) => item.includes(v)))
}

function usableValues(values: readonly string[]): readonly string[] {
  let usable = USABLE_VALUES.get(values)
  if (usable === undefined) {
    // An empty value would match between every two characters.
    usable = values.filter((value) => value !== '').sort((a, b) => b.length - a.length)
    USABLE_VALUES.set(values, usable)
  }
  return usable
}

/**
 * The relay passes one cached array per credential and secret (`injectCredential`), so the
 * sorted header values and the body scrubber's bytes are derived once per array, not once per
 * response. Weak keys: an array no request holds any more takes its entry with it.
 */
const USABLE_VALUES = new WeakMap<readonly string[], readonly string[]>()
const SCRUB_BYTES = new WeakMap<ReadonlyArray<string | Buffer>, ScrubBytes>()

/** A scrubber's values as bytes (none empty) and the byte it masks them with. */
interface ScrubBytes {
  values: readonly Buffer[]
  maskByte: number
}

function scrubBytesOf(values: ReadonlyArray<string | Buffer>): ScrubBytes {
  let bytes = SCRUB_BYTES.get(values)
  if (bytes === undefined) {
    const buffers = values
      .map((value) => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value))
      .filter((value) => value.length > 0)
    bytes = { values: buffers, maskByte: chooseMaskByte(buffers) }
    SCRUB_BYTES.set(values, bytes)
  }
  return bytes
}

function redactAll(text: string, values: readonly string[]): { text: string; count: number } {
  let count = 0
  for (const value of values) {
    if (!text.includes(value)) continue
    const parts = text.split(value)
    count += parts.length - 1
    text = parts.join(HEADER_REDACTION)
  }
  return { text, count }
}

/**
 * Replaces every occurrence of each value in a byte stream with as many `*` bytes, so a
 * `Content-Length` stays true. Occurrences that overlap or span chunk boundaries are all masked.
 * When a value itself contains `*`, another byte that no value contains is used instead, since
 * masking with a byte of the value could piece the value together again next to a mask.
 *
 * Only the tail of each chunk that could still grow into a value (a proper prefix of one) is held
 * back; everything else is passed on at once, so server-sent events keep flowing.
 *
 * Security caveat: this sees bytes as sent. A compressed or otherwise encoded body hides the
 * value from it; the relay must ask upstreams for an identity encoding when it injects.
 */
export class Scrubber {
  readonly #values: readonly Buffer[]
  readonly #maskByte: number
  /** Unsent bytes, as received: matching always runs on the original bytes. */
  #held: Buffer = EMPTY
  /** Masks already found that reach into `#held`, relative to its start. */
  #heldMasks: Range[] = []
  #replacements = 0

  /** `values` must not change afterwards: what is derived from it is kept per array. */
  constructor(values: ReadonlyArray<string | Buffer>) {
    const bytes = scrubBytesOf(values)
    this.#values = bytes.values
    this.#maskByte = bytes.maskByte
  }

  /** How many occurrences have been masked so far. */
  get replacements(): number {
    return this.#replacements
  }

  /** Takes the next chunk; returns the bytes that are safe to send now (maybe none). */
  push(chunk: Buffer): Buffer {
    const buffer = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk])
    const masks = [...this.#heldMasks, ...this.#findNewMatches(buffer, this.#held.length)]

    const sendUpTo = buffer.length - this.#partialTailLength(buffer)
    const out = this.#masked(buffer, sendUpTo, masks)
    this.#holdRest(buffer, sendUpTo, masks)
    return out
  }

  /** The end of the body: whatever was held back, masked. */
  end(): Buffer {
    const out = this.#masked(this.#held, this.#held.length, this.#heldMasks)
    this.#held = EMPTY
    this.#heldMasks = []
    return out
  }

  /**
   * Matches that end in the new bytes. One lying wholly inside the held bytes was found and
   * counted when they arrived, so each search starts where a match would reach past them.
   */
  #findNewMatches(buffer: Buffer, heldLength: number): Range[] {
    const found: Range[] = []
    for (const value of this.#values) {
      let at = buffer.indexOf(value, Math.max(0, heldLength - value.length + 1))
      while (at !== -1) {
        found.push([at, at + value.length])
        at = buffer.indexOf(value, at + 1)
      }
    }
    this.#replacements += found.length
    return found
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some value. */
  #partialTailLength(buffer: Buffer): number {
    let longest = 0
    for (const value of this.#values) {
      const first = value[0] ?? 0
      let at = buffer.indexOf(first, Math.max(0, buffer.length - value.length + 1))
      while (at !== -1 && buffer.length - at > longest) {
        if (value.subarray(0, buffer.length - at).equals(buffer.subarray(at))) {
          longest = buffer.length - at
          break
        }
        at = buffer.indexOf(first, at + 1)
      }
    }
    return longest
  }

  #masked(buffer: Buffer, end: number, masks: readonly Range[]): Buffer {
    if (end === 0) return EMPTY
    const touched = masks.filter(([start]) => start < end)
    if (touched.length === 0) return buffer.subarray(0, end)

    // Copy before masking: the chunk may belong to the caller.
    const out = Buffer.from(buffer.subarray(0, end))
    for (const [start, stop] of touched) out.fill(this.#maskByte, start, Math.min(stop, end))
    return out
  }

  #holdRest(buffer: Buffer, from: number, masks: readonly Range[]): void {
    // Copied, so a small held tail does not pin a large chunk in memory.
    this.#held = from === buffer.length ? EMPTY : Buffer.from(buffer.subarray(from))
    this.#heldMasks = masks
      .filter(([, stop]) => stop > from)
      .map(([start, stop]): Range => [Math.max(0, start - from), stop - from])
  }
}

/** `Scrubber` as a Transform, for callers that want to pipe. */
export class ScrubStream extends Transform {
  readonly #scrubber: Scrubber

  constructor(values: ReadonlyArray<string | Buffer>) {
    super()
    this.#scrubber = new Scrubber(values)
  }

  /** How many occurrences have been masked so far. */
  get replacements(): number {
    return this.#scrubber.replacements
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out = this.#scrubber.push(chunk)
    if (out.length > 0) this.push(out)
    done()
  }

  override _flush(done: TransformCallback): void {
    const out = this.#scrubber.end()
    if (out.length > 0) this.push(out)
    done()
  }
}

/**
 * `*` unless a value contains it; then the first printable byte (or any byte) none contains.
 * Values that between them use all 256 bytes fall back to `*`: only binary secrets can do that.
 */
function chooseMaskByte(values: readonly Buffer[]): number {
  // Allocates nothing in the common case.
  if (values.every((value) => !value.includes(STAR))) return STAR
  const used = new Set<number>()
  for (const value of values) for (const byte of value) used.add(byte)

  for (let byte = 0x21; byte <= 0x7e; byte++) if (!used.has(byte)) return byte
  for (let byte = 0x00; byte <= 0xff; byte++) if (!used.has(byte)) return byte
  return STAR
}
