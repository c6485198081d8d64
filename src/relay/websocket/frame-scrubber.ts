import { Scrubber } from '../../secrets/scrubber.js'
import { FrameError } from './frame-error.js'
import { OPCODE, isControlOpcode, readFrameHeader, type FrameHeader } from './frame-header.js'

const EMPTY = Buffer.alloc(0)

/**
 * Control frames that may wait behind a held-back fragment tail. Only an upstream that sends
 * control frames and no data for that long gets here; the cap keeps it from growing the queue.
 */
const MAX_WAITING_CONTROL = 64

/** The frame whose payload is arriving. */
interface OpenFrame {
  header: FrameHeader
  remaining: number
  /** A control frame's header and payload so far: it is scrubbed whole once complete. */
  control: Buffer[] | null
}

/**
 * What is still to be sent, in wire order: bytes that are final (headers, whole control
 * frames), and counts of data payload bytes the message scrubber has not released yet.
 */
type Pending = { bytes: Buffer; control: boolean } | { payload: number }

/**
 * Masks injected values in the frames a WebSocket server sends, without changing any frame's
 * length: every occurrence becomes as many mask bytes, so the headers pass as they came.
 *
 * The payloads of one message are scrubbed as one stream, so a value split across the frames
 * of a fragmented message is still found. The price is that the tail of a non-final frame that
 * could begin a value is held back until the next frame shows how it goes on, and with it
 * everything behind it (a ping between fragments waits for it too). A message's last frame
 * releases everything: complete messages are never held.
 *
 * Framing a server must not send throws a FrameError; the caller then closes both sides, since
 * what follows cannot be framed, and so cannot be scrubbed.
 *
 * Security caveat: only plain payloads can be scrubbed. The relay keeps extensions such as
 * `permessage-deflate` from being negotiated; a subprotocol that compresses or encodes its own
 * messages hides the value from this scrubber.
 */
export class FrameScrubber {
  readonly #message: Scrubber
  readonly #control: Scrubber
  /** A header cut off by the end of the last chunk. */
  #partialHeader: Buffer = EMPTY
  #frame: OpenFrame | null = null
  #inMessage = false
  readonly #pending: Pending[] = []
  #waitingControl = 0
  #ready: Buffer[] = []

  constructor(values: ReadonlyArray<string | Buffer>) {
    this.#message = new Scrubber(values)
    this.#control = new Scrubber(values)
  }

  /** How many occurrences have been masked so far. */
  get replacements(): number {
    return this.#message.replacements + this.#control.replacements
  }

  /** Takes the next upstream chunk; returns the bytes that are safe to send now (maybe none). */
  push(chunk: Buffer): Buffer {
    const buffer = this.#takePartialHeader(chunk)
    let at = 0
    while (at < buffer.length) {
      if (this.#frame !== null) {
        at += this.#takePayload(buffer.subarray(at))
        continue
      }

      const header = readFrameHeader(buffer.subarray(at))
      if (header === null) {
        this.#partialHeader = Buffer.from(buffer.subarray(at))
        break
      }
      this.#startFrame(header, buffer.subarray(at, at + header.size))
      at += header.size
    }
    return this.#drain()
  }

  #takePartialHeader(chunk: Buffer): Buffer {
    if (this.#partialHeader.length === 0) return chunk
    const buffer = Buffer.concat([this.#partialHeader, chunk])
    this.#partialHeader = EMPTY
    return buffer
  }

  #startFrame(header: FrameHeader, raw: Buffer): void {
    // Copied: a header may wait in `#pending` after the chunk it came in is gone.
    const bytes = Buffer.from(raw)
    if (isControlOpcode(header.opcode)) {
      this.#frame = { header, remaining: header.length, control: [bytes] }
    } else {
      this.#openDataFrame(header)
      this.#frame = { header, remaining: header.length, control: null }
      this.#enqueue(bytes)
      if (header.length > 0) this.#pending.push({ payload: header.length })
    }
    if (header.length === 0) this.#finishFrame()
  }

  /** Data frames must form messages: a first frame, then continuations until FIN. */
  #openDataFrame(header: FrameHeader): void {
    const continues = header.opcode === OPCODE.continuation
    if (continues && !this.#inMessage) throw new FrameError('WS_UNEXPECTED_CONTINUATION')
    if (!continues && this.#inMessage) throw new FrameError('WS_EXPECTED_CONTINUATION')
    this.#inMessage = true
  }

  /** Consumes payload bytes of the open frame from `bytes`; returns how many it took. */
  #takePayload(bytes: Buffer): number {
    const frame = this.#frame
    if (frame === null) return 0
    const taken = bytes.subarray(0, Math.min(frame.remaining, bytes.length))
    if (frame.control === null) this.#release(this.#message.push(taken))
    else frame.control.push(Buffer.from(taken))

    frame.remaining -= taken.length
    if (frame.remaining === 0) this.#finishFrame()
    return taken.length
  }

  #finishFrame(): void {
    const frame = this.#frame
    this.#frame = null
    if (frame === null) return
    if (frame.control !== null) {
      this.#enqueue(this.#scrubControl(frame.control), true)
      return
    }
    if (!frame.header.fin) return

    this.#inMessage = false
    this.#release(this.#message.end())
  }

  /** A control frame is at most 125 payload bytes, so it is scrubbed whole, on its own. */
  #scrubControl(parts: Buffer[]): Buffer {
    const [header = EMPTY, ...payload] = parts
    const body = Buffer.concat(payload)
    const scrubbed = [this.#control.push(body), this.#control.end()]
    return Buffer.concat([header, ...scrubbed])
  }

  /** Final bytes go out at once unless payload bytes before them are still held back. */
  #enqueue(bytes: Buffer, control = false): void {
    if (this.#pending.length === 0) {
      this.#ready.push(bytes)
      return
    }
    if (control && ++this.#waitingControl > MAX_WAITING_CONTROL) {
      throw new FrameError('WS_CONTROL_FLOOD')
    }
    this.#pending.push({ bytes, control })
  }

  /**
   * Places payload bytes the message scrubber released into the frames still waiting for
   * them, in order, and sends whatever is then complete. The scrubber never releases more
   * than it was given, so there is always room for them.
   */
  #release(bytes: Buffer): void {
    let at = 0
    this.#flushFinal()
    while (at < bytes.length) {
      const slot = this.#pending[0]
      if (slot === undefined || 'bytes' in slot) throw new Error('scrubbed bytes without a frame')
      const take = Math.min(slot.payload, bytes.length - at)
      this.#ready.push(bytes.subarray(at, at + take))
      slot.payload -= take
      at += take
      this.#flushFinal()
    }
  }

  /** Sends the final bytes at the front of `#pending` and drops payload slots already full. */
  #flushFinal(): void {
    let next = this.#pending[0]
    while (next !== undefined && ('bytes' in next || next.payload === 0)) {
      if ('bytes' in next) this.#ready.push(next.bytes)
      if ('bytes' in next && next.control) this.#waitingControl--
      this.#pending.shift()
      next = this.#pending[0]
    }
  }

  #drain(): Buffer {
    const ready = this.#ready
    this.#ready = []
    if (ready.length === 1) return ready[0] ?? EMPTY
    return ready.length === 0 ? EMPTY : Buffer.concat(ready)
  }
}
