import type { CredentialConfig } from '../config/types.js'
import { encodedForms } from './secret-forms.js'
import { TollgateError } from '../errors/tollgate-error.js'
import { percentDecode } from './credential-binding.js'
import type { SecretValue } from './secret-value.js'

export { findPlaceholders, isHostBound } from './credential-binding.js'

/**
 * The parts of a request the injector may change. Header names are lower case; `pathAndQuery`
 * is the exact request-target bytes the relay will send (`/a?b=c`).
 */
export interface OutgoingRequest {
  headers: Record<string, string | string[]>
  pathAndQuery: string
}

export interface InjectionResult {
  /**
   * Every string form of the secret the upstream might echo back, longest first, each at least
   * 4 characters long: hand them to `scrubHeaders` and `ScrubStream` for the response. The
   * same array for every request with the same secret and injected values, so whatever the
   * scrubbers derive from it is derived once.
   */
  scrubValues: readonly string[]
}

/** Shorter values would be redacted all over ordinary responses. */
const MIN_SCRUB_LENGTH = 4
const SECRET_MARK = '{secret}'
// A CR or LF in a header value would let a secret split the request into two.
const UNSAFE_IN_HEADER = /[\r\n\0]/

/**
 * Adds the credential to `req` in place. Whatever the agent sent in the credential's slot (the
 * header, `authorization`, the query parameter) is dropped first, so the upstream sees exactly
 * one value and it is ours.
 *
 * Security caveat: call only after policy has allowed the request and `isHostBound` has
 * confirmed the target host; this function does not look at the host.
 *
 * @example
 * ```ts
 * const { scrubValues } = injectCredential(credential, store.get(credential.secret), req)
 * ```
 */
export function injectCredential(
  cred: CredentialConfig,
  secret: SecretValue,
  req: OutgoingRequest,
): InjectionResult {
  const raw = secret.reveal()
  const injected = applyInjection(cred, raw, req)
  return { scrubValues: scrubValuesFor(raw, injected) }
}

/** Returns the header values it set, which the upstream might echo whole. */
function applyInjection(cred: CredentialConfig, raw: string, req: OutgoingRequest): string[] {
  const inject = cred.inject
  switch (inject.kind) {
    case 'header':
      return [injectHeader(cred.name, inject.header, inject.format, raw, req)]
    case 'basic':
      return injectBasic(cred.name, inject.username, raw, req)
    case 'query':
      req.pathAndQuery = replaceQueryParam(req.pathAndQuery, inject.param, raw)
      return []
    case 'placeholder':
      injectPlaceholder(cred.name, inject.placeholder, raw, req)
      return []
  }
}

function injectHeader(
  credName: string,
  header: string,
  format: string,
  raw: string,
  req: OutgoingRequest,
): string {
  if (!format.includes(SECRET_MARK)) {
    throw new TollgateError(
      'TOLLGATE_CONFIG_INVALID',
      `credential '${credName}': the header format must contain ${SECRET_MARK}`,
    )
  }

  const value = format.replaceAll(SECRET_MARK, raw)
  assertHeaderSafe(credName, value)
  dropHeader(req.headers, header)
  req.headers[header.toLowerCase()] = value
  return value
}

function injectBasic(
  credName: string,
  username: string,
  raw: string,
  req: OutgoingRequest,
): string[] {
  const encoded = Buffer.from(`${username}:${raw}`, 'utf8').toString('base64')
  const value = `Basic ${encoded}`
  assertHeaderSafe(credName, value)

  dropHeader(req.headers, 'authorization')
  req.headers.authorization = value
  return [value, encoded]
}

function injectPlaceholder(
  credName: string,
  placeholder: string,
  raw: string,
  req: OutgoingRequest,
): void {
  // The placeholder may sit in any header; a secret that cannot be a header value is refused
  // before any header is changed.
  if (hasPlaceholderInHeaders(req.headers, placeholder)) assertHeaderSafe(credName, raw)

  for (const [name, value] of Object.entries(req.headers)) {
    req.headers[name] = Array.isArray(value)
      ? value.map((item) => item.replaceAll(placeholder, raw))
      : value.replaceAll(placeholder, raw)
  }
  req.pathAndQuery = req.pathAndQuery.replaceAll(placeholder, encodeURIComponent(raw))
}

/**
 * Removes every occurrence of `param` from the query and appends `param=<secret>`. The rest of
 * the target is kept byte for byte: re-serialising it could change what the upstream sees from
 * what policy decided on.
 */
function replaceQueryParam(pathAndQuery: string, param: string, raw: string): string {
  const mark = pathAndQuery.indexOf('?')
  const path = mark === -1 ? pathAndQuery : pathAndQuery.slice(0, mark)
  const query = mark === -1 ? '' : pathAndQuery.slice(mark + 1)

  const kept = query === '' ? [] : query.split('&').filter((part) => !isParam(part, param))
  const rest = kept.join('&')
  const separator = rest === '' || rest.endsWith('&') ? '' : '&'
  const added = `${encodeURIComponent(param)}=${encodeURIComponent(raw)}`
  return `${path}?${rest}${separator}${added}`
}

// Compared decoded and without case: `API%5Fkey=x` reaches many upstreams as `api_key`, and
// some frameworks match parameter names case-insensitively.
function isParam(part: string, param: string): boolean {
  const equals = part.indexOf('=')
  const name = equals === -1 ? part : part.slice(0, equals)
  return percentDecode(name.replaceAll('+', ' ')).toLowerCase() === param.toLowerCase()
}

function dropHeader(headers: OutgoingRequest['headers'], header: string): void {
  const lower = header.toLowerCase()
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === lower) delete headers[name]
  }
}

function hasPlaceholderInHeaders(
  headers: OutgoingRequest['headers'],
  placeholder: string,
): boolean {
  return Object.values(headers).some((value) =>
    Array.isArray(value)
      ? value.some((item) => item.includes(placeholder))
      : value.includes(placeholder),
  )
}

function assertHeaderSafe(credName: string, value: string): void {
  if (!UNSAFE_IN_HEADER.test(value)) return

  throw new TollgateError(
    'TOLLGATE_SECRET_UNAVAILABLE',
    `credential '${credName}': the secret holds a line break or NUL and cannot go in a header`,
    { expose: false },
  )
}

function scrubValuesFor(raw: string, injected: string[]): readonly string[] {
  // NUL cannot occur in a header value (assertHeaderSafe), so the key is unambiguous.
  const key = `${raw}\0${injected.join('\0')}`
  let values = SCRUB_VALUES_CACHE.get(key)
  if (values === undefined) {
    if (SCRUB_VALUES_CACHE.size >= SCRUB_VALUES_CACHE_MAX) SCRUB_VALUES_CACHE.clear()
    values = Object.freeze(computeScrubValues(raw, injected))
    SCRUB_VALUES_CACHE.set(key, values)
  }
  return values
}

/**
 * Every injected request of a credential needs the same list; building it (a set, a sort) and
 * everything the scrubbers derive from it was a sizeable share of the relay's per-request
 * allocation. Keyed by the secret like `encodedForms`, and bounded the same way.
 */
const SCRUB_VALUES_CACHE = new Map<string, readonly string[]>()
const SCRUB_VALUES_CACHE_MAX = 1024

function computeScrubValues(raw: string, injected: string[]): string[] {
  const forms = [...injected, ...encodedForms(raw)]

  // Longest first, so `Bearer xyz` is redacted whole rather than leaving `Bearer ` behind.
  const unique = new Set(forms.filter((form) => form.length >= MIN_SCRUB_LENGTH))
  return [...unique].sort((a, b) => b.length - a.length)
}
