import { TollgateError } from '../../errors/tollgate-error.js'
import { TOKEN_BODY_LENGTH, TOKEN_PREFIX } from '../../identity/token-format.js'

const PREFIX = Buffer.from(TOKEN_PREFIX, 'latin1')
const TOKEN_BYTES = PREFIX.length + TOKEN_BODY_LENGTH
const EMPTY = Buffer.alloc(0)

/** base64url's alphabet, the characters a token is made of after its prefix. */
const TOKEN_CHAR = new Uint8Array(256)
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
  TOKEN_CHAR[char.charCodeAt(0)] = 1
}

/**
 * Watches a request body on its way upstream for a Tollgate token (any agent's), as the
 * headers, path and query are watched before the decision: a prompt-injected agent told to
 * post its token somewhere would hand whoever reads it the relay as that agent.
 *
 * The body streams, so a token may arrive split across chunks. Bytes at the end of what has
 * arrived that could be the start of a token are held back until the next chunk says whether
 * they are; everything else goes on at once, so a body that is also a live stream (a client
 * that waits for an answer before it sends more) is not stalled by the watch. A whole token
 * aborts the request before any of its bytes were sent.
 */
export class TokenWatch {
  #held: Buffer = EMPTY

  /**
   * The bytes that may go upstream now.
   *
   * @throws TollgateError `TOLLGATE_TOKEN_EXFILTRATION` once a whole token has arrived
   */
  push(chunk: Buffer): Buffer {
    const all = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk])
    if (holdsWholeToken(all)) throw exfiltration()

    const keep = all.length - possibleTokenStart(all)
    this.#held = keep === 0 ? EMPTY : Buffer.from(all.subarray(all.length - keep))
    return keep === 0 ? all : all.subarray(0, all.length - keep)
  }

  /** What was held back: the body ended, so it is not the start of a token. */
  end(): Buffer {
    const rest = this.#held
    this.#held = EMPTY
    return rest
  }
}

/** Whether `bytes` hold a whole token, for a body read in one piece. */
export function holdsWholeToken(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(PREFIX); at !== -1; at = bytes.indexOf(PREFIX, at + 1)) {
    if (at + TOKEN_BYTES > bytes.length) return false
    if (tokenCharsAt(bytes, at + PREFIX.length, at + TOKEN_BYTES)) return true
  }
  return false
}

/**
 * Where the shortest tail of `bytes` that could still grow into a token begins (the length of
 * `bytes` when none could). Only the last `TOKEN_BYTES - 1` positions can start one that is
 * not yet whole.
 */
function possibleTokenStart(bytes: Buffer): number {
  for (let start = Math.max(0, bytes.length - TOKEN_BYTES + 1); start < bytes.length; start++) {
    if (couldStartToken(bytes, start)) return start
  }
  return bytes.length
}

function couldStartToken(bytes: Buffer, start: number): boolean {
  const prefixEnd = Math.min(bytes.length, start + PREFIX.length)
  for (let i = start; i < prefixEnd; i++) {
    if (bytes[i] !== PREFIX[i - start]) return false
  }
  return tokenCharsAt(bytes, prefixEnd, bytes.length)
}

function tokenCharsAt(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (TOKEN_CHAR[bytes[i] ?? 0] !== 1) return false
  }
  return true
}

function exfiltration(): TollgateError {
  return new TollgateError(
    'TOLLGATE_TOKEN_EXFILTRATION',
    'the request body carries a Tollgate token; tokens never leave the relay',
  )
}
