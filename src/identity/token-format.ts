import { createHash, randomBytes } from 'node:crypto'

/**
 * Agent tokens are 32 random bytes, base64url, behind a recognisable prefix so secret scanners
 * can spot a leaked one. Only the SHA-256 of a token is stored; a stolen database gives nothing
 * that can be replayed.
 */
export const TOKEN_PREFIX = 'tgt_'

/** Characters after the prefix: 32 bytes in base64url, without padding. */
export const TOKEN_BODY_LENGTH = 43

const TOKEN_PATTERN = /^tgt_[A-Za-z0-9_-]{43}$/
const TOKEN_INSIDE = /tgt_[A-Za-z0-9_-]{43}/
const TOKENS_INSIDE = /tgt_[A-Za-z0-9_-]{43}/g

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url')
}

export function generateTokenId(): string {
  return 'tok_' + randomBytes(8).toString('hex')
}

/** Whether a string has the shape of a token; cheap, so junk is refused before any lookup. */
export function isTokenShaped(value: string): boolean {
  return TOKEN_PATTERN.test(value)
}

/**
 * Whether a longer text holds something token-shaped; the prefix test keeps the usual case
 * cheap.
 */
export function holdsToken(text: string): boolean {
  return text.includes(TOKEN_PREFIX) && TOKEN_INSIDE.test(text)
}

/** `text` with every token-shaped run replaced, for what is logged and recorded. */
export function redactTokens(text: string): string {
  if (!text.includes(TOKEN_PREFIX)) return text
  return text.replace(TOKENS_INSIDE, `${TOKEN_PREFIX}[REDACTED]`)
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
