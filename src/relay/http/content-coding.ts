import {
  createBrotliCompress,
  createBrotliDecompress,
  createDeflate,
  createGunzip,
  createGzip,
  createInflate,
  type BrotliCompress,
  type Deflate,
  type Gzip,
} from 'node:zlib'
import type { Transform } from 'node:stream'

/** The content codings the relay can read (to scrub, inspect or swap) and write back. */
export type ContentCoding = 'gzip' | 'deflate' | 'br'

/**
 * Reads a `Content-Encoding` header: null for none (or `identity`), undefined for a coding the
 * relay cannot decode, which includes a list of several (`gzip, br`): each layer would have to
 * be undone in turn, and no real client sends that.
 */
export function contentCodingOf(
  value: string | string[] | undefined,
): ContentCoding | null | undefined {
  const coding = (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase()
  if (coding === '' || coding === 'identity') return null
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip'
  if (coding === 'deflate') return 'deflate'
  if (coding === 'br') return 'br'
  return undefined
}

export function decoderFor(coding: ContentCoding): Transform {
  if (coding === 'gzip') return createGunzip()
  if (coding === 'deflate') return createInflate()
  return createBrotliDecompress()
}

export function encoderFor(coding: ContentCoding): Gzip | Deflate | BrotliCompress {
  if (coding === 'gzip') return createGzip()
  if (coding === 'deflate') return createDeflate()
  return createBrotliCompress()
}
