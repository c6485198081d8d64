import { Transform, type TransformCallback } from 'node:stream'
import { FrameScrubber } from './frame-scrubber.js'

/**
 * `FrameScrubber` as a Transform for the upstream→agent direction. Invalid framing fails the
 * stream with the FrameError; bytes still held back when the upstream ends belong to a frame
 * that never completed, and are dropped rather than sent unscrubbed.
 */
export class FrameScrubStream extends Transform {
  readonly #scrubber: FrameScrubber

  constructor(values: ReadonlyArray<string | Buffer>) {
    super()
    this.#scrubber = new FrameScrubber(values)
  }

  /** How many occurrences have been masked so far. */
  get replacements(): number {
    return this.#scrubber.replacements
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let out: Buffer
    try {
      out = this.#scrubber.push(chunk)
    } catch (error) {
      done(error as Error)
      return
    }
    if (out.length > 0) this.push(out)
    done()
  }
}
