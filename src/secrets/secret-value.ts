import { timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'

/** What every string, JSON and inspect form of a `SecretValue` shows instead of the value. */
export const SECRET_PLACEHOLDER = '[secret]'

/**
 * A secret in memory. The value sits in a `#private` field, so it cannot be reached by
 * `Object.keys`, spread, `JSON.stringify`, `util.inspect`, pino or a template string: all of them
 * see `[secret]`. The only way out is an explicit `reveal()`, which makes every place that
 * handles the real bytes easy to find with grep.
 *
 * Security caveat: a revealed string cannot be wiped from memory; reveal as late as possible
 * and do not keep the result.
 *
 * @example
 * ```ts
 * const key = new SecretValue('sk-live-123')
 * logger.info({ key }, 'loaded') // logs "key":"[secret]"
 * headers.authorization = `Bearer ${key.reveal()}`
 * ```
 */
export class SecretValue {
  readonly #bytes: Buffer

  constructor(value: string | Buffer) {
    // Copy, so a caller that reuses or wipes its buffer does not change this secret.
    this.#bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)
  }

  /** The secret as a UTF-8 string. Every call site is a place the value leaves the wrapper. */
  reveal(): string {
    return this.#bytes.toString('utf8')
  }

  /** A copy of the secret's bytes; the caller may wipe it with `fill(0)` when done. */
  revealBuffer(): Buffer {
    return Buffer.from(this.#bytes)
  }

  /** Length in bytes (UTF-8), which is safe to log and to check against limits. */
  get length(): number {
    return this.#bytes.length
  }

  /** Compares in constant time for equal lengths, so a comparison does not leak a prefix. */
  equals(other: SecretValue): boolean {
    const theirs = other.revealBuffer()
    const same = theirs.length === this.#bytes.length && timingSafeEqual(this.#bytes, theirs)
    theirs.fill(0)
    return same
  }

  toString(): string {
    return SECRET_PLACEHOLDER
  }

  toJSON(): string {
    return SECRET_PLACEHOLDER
  }

  // String concatenation (`'x' + secret`) asks for a primitive before it calls toString.
  [Symbol.toPrimitive](): string {
    return SECRET_PLACEHOLDER
  }

  [inspect.custom](): string {
    return SECRET_PLACEHOLDER
  }
}
