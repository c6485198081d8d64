const EMPTY = Buffer.alloc(0)

/**
 * Replaces every occurrence of a credential's placeholder in a byte stream with the secret,
 * byte for byte. The output has another length than the input whenever the two differ in
 * length, so whoever sends it must drop or recompute `Content-Length`.
 *
 * Only the last `placeholder.length - 1` bytes of what has arrived are held back between
 * chunks (the most of a placeholder that can still be completed by the next chunk); everything
 * before them is passed on at once, so a streamed upload keeps moving.
 *
 * Security caveat: the swap is byte-level. A secret holding `"` or `\` inserted into a JSON
 * string yields invalid JSON (or a different value); a compressed body hides the placeholder.
 * Callers pass only identity-encoded bodies, and secrets are normally opaque tokens.
 *
 * @example
 * ```ts
 * const swap = new PlaceholderSwap(Buffer.from('tg-ph-1'), Buffer.from(secret.reveal()))
 * const out = Buffer.concat([swap.push(chunk1), swap.push(chunk2), swap.end()])
 * ```
 */
export class PlaceholderSwap {
  readonly #placeholder: Buffer
  readonly #secret: Buffer
  #held: Buffer = EMPTY
  #swaps = 0

  constructor(placeholder: Buffer, secret: Buffer) {
    if (placeholder.length === 0) throw new RangeError('a placeholder cannot be empty')
    this.#placeholder = placeholder
    this.#secret = secret
  }

  /** How many placeholders have been replaced so far. */
  get swaps(): number {
    return this.#swaps
  }

  /** Takes the next chunk; returns the bytes that are final now (maybe none). */
  push(chunk: Buffer): Buffer {
    const buffer = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk])
    const { parts, rest } = this.#replaceIn(buffer)

    // No placeholder starts before `keepFrom`, so only the bytes after it can still become one.
    const keepFrom = Math.max(rest, buffer.length - (this.#placeholder.length - 1))
    parts.push(buffer.subarray(rest, keepFrom))
    // Copied, so a small held tail does not pin a large chunk in memory.
    this.#held = keepFrom === buffer.length ? EMPTY : Buffer.from(buffer.subarray(keepFrom))
    return parts.length === 1 ? (parts[0] ?? EMPTY) : Buffer.concat(parts)
  }

  /** The end of the body: whatever was held back (too short to be a placeholder). */
  end(): Buffer {
    const out = this.#held
    this.#held = EMPTY
    return out
  }

  /** The bytes up to the end of the last whole placeholder, swapped, and where the rest starts. */
  #replaceIn(buffer: Buffer): { parts: Buffer[]; rest: number } {
    const parts: Buffer[] = []
    let rest = 0
    let at = buffer.indexOf(this.#placeholder)
    while (at !== -1) {
      parts.push(buffer.subarray(rest, at), this.#secret)
      rest = at + this.#placeholder.length
      this.#swaps++
      at = buffer.indexOf(this.#placeholder, rest)
    }
    return { parts, rest }
  }
}

/** Swaps every placeholder in a whole body at once. */
export function swapPlaceholder(body: Buffer, placeholder: Buffer, secret: Buffer): Buffer {
  const swap = new PlaceholderSwap(placeholder, secret)
  const head = swap.push(body)
  const tail = swap.end()
  return tail.length === 0 ? head : Buffer.concat([head, tail])
}
