/**
 * The spellings of a secret an upstream could hand back besides the secret itself: an API that
 * echoes a request hex-encoded, inside base64 (at any byte offset of a larger blob), or as a
 * JSON string. The scrubber masks each of them, so an agent cannot get the credential back by
 * asking an allowed endpoint to encode it.
 */
export function encodedForms(raw: string): readonly string[] {
  let forms = FORMS_CACHE.get(raw)
  if (forms === undefined) {
    // Bounded by the number of secrets in use; dropping all at the cap keeps it simple.
    if (FORMS_CACHE.size >= FORMS_CACHE_MAX) FORMS_CACHE.clear()
    forms = computeForms(raw)
    FORMS_CACHE.set(raw, forms)
  }
  return forms
}

/**
 * The forms are derived on every injected request otherwise (a dozen encodings and
 * allocations each). Secrets are already held decrypted for the process's life
 * (`SecretStore`), so keeping their encodings beside them exposes nothing new.
 */
const FORMS_CACHE = new Map<string, readonly string[]>()
const FORMS_CACHE_MAX = 1024

function computeForms(raw: string): readonly string[] {
  const bytes = Buffer.from(raw, 'utf8')
  const base64 = [0, 1, 2].map((offset) => base64Core(bytes, offset))
  const derived = [
    JSON.stringify(raw).slice(1, -1),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    ...base64.slice(1),
    ...base64.map(toBase64Url),
  ]

  // A short derived form (the middle of a short secret's base64) would match ordinary text and
  // mask it; the secret itself and its plain encodings are masked at any length.
  const direct = [raw, encodeURIComponent(raw), base64[0] ?? '']
  return [...direct, ...derived.filter((form) => form.length >= MIN_DERIVED_LENGTH)]
}

/** Shortest derived form worth masking: 12 bytes of secret as base64, 8 as hex. */
const MIN_DERIVED_LENGTH = 16

/**
 * The base64 characters that depend on the secret alone when it starts `offset` bytes into a
 * 3-byte group: whole groups only, since a group shared with the bytes around it encodes
 * differently in every message. At offset 0 the final partial group is kept with its padding,
 * which is how the secret encodes on its own.
 */
function base64Core(bytes: Buffer, offset: number): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes])
  const encoded = padded.toString('base64')
  if (offset === 0) return encoded

  const firstWholeGroup = 1
  const wholeGroups = Math.floor(padded.length / 3)
  return encoded.slice(firstWholeGroup * 4, wholeGroups * 4)
}

function toBase64Url(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}
