import type { IncomingMessage } from 'node:http'

/** Headers frameworks read to replace the request method (Rails, Express, Laravel, Google). */
const OVERRIDE_HEADERS = new Set(['x-http-method-override', 'x-http-method', 'x-method-override'])

/** Query parameters that do the same in some frameworks, as their names read once decoded. */
const OVERRIDE_PARAMS = new Set(['_method', 'method'])

/**
 * Every method the upstream might act on besides the request line's: an upstream that honours
 * `X-HTTP-Method-Override: DELETE` on a POST deletes, so the relay must decide on DELETE too.
 * Names are matched the way the most lenient upstream reads them: header names with `_` for
 * `-` (CGI turns both into `HTTP_X_HTTP_METHOD_OVERRIDE`), parameter names percent- and
 * `+`-decoded, in any case, with PHP's rewriting of a leading `.`, space or `[` to `_`.
 *
 * A `_method` field in a form body is found by `FormOverrideScanner` as the body streams.
 */
export function overriddenMethods(req: IncomingMessage, query: string): string[] {
  const methods = new Set<string>()
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase().replaceAll('_', '-')
    if (OVERRIDE_HEADERS.has(name)) methods.add((raw[i + 1] ?? '').trim().toUpperCase())
  }

  for (const pair of query.replace(/^\?/, '').split('&')) {
    const at = pair.indexOf('=')
    if (at === -1) continue
    if (!OVERRIDE_PARAMS.has(paramName(pair.slice(0, at)))) continue
    methods.add(
      formDecode(pair.slice(at + 1))
        .trim()
        .toUpperCase(),
    )
  }

  methods.delete(req.method ?? '')
  return [...methods]
}

/** A parameter name as PHP, Rack or Express would hand it to the application. */
function paramName(raw: string): string {
  return formDecode(raw)
    .trim()
    .toLowerCase()
    .replace(/^[. []/, '_')
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

/** The form field Rails, Laravel, Symfony and Express's method-override read. */
const FORM_OVERRIDE_PARAM = '_method'

/** Longest name or value kept while scanning: a longer name cannot decode to `_method`. */
const MAX_KEPT = 256

const AMPERSAND = 0x26
const EQUALS = 0x3d

/**
 * Finds `_method` fields in an `application/x-www-form-urlencoded` body as it streams, however
 * it is split into chunks and however its name is escaped (`%5Fmethod`, `_%6Dethod`). Only the
 * field being read is kept, and only up to `MAX_KEPT` bytes of it. Only `_method` counts here:
 * a body field called `method` is ordinary data in many APIs (a payment method, say), and the
 * frameworks that override from a body read `_method`.
 */
export class FormOverrideScanner {
  #name: number[] = []
  #value: number[] = []
  #inValue = false
  #tooLong = false

  /** Takes the next chunk; returns the methods of the fields it completed. */
  push(chunk: Buffer): string[] {
    const found: string[] = []
    for (const byte of chunk) {
      if (byte === AMPERSAND) this.#endField(found)
      else if (byte === EQUALS && !this.#inValue) this.#inValue = true
      else this.#keep(this.#inValue ? this.#value : this.#name, byte)
    }
    return found
  }

  /** The end of the body: the last field, if it is one. */
  end(): string[] {
    const found: string[] = []
    this.#endField(found)
    return found
  }

  #keep(into: number[], byte: number): void {
    if (into.length < MAX_KEPT) into.push(byte)
    else this.#tooLong = true
  }

  #endField(found: string[]): void {
    const name = paramName(Buffer.from(this.#name).toString('latin1'))
    if (this.#inValue && !this.#tooLong && name === FORM_OVERRIDE_PARAM) {
      found.push(formDecode(Buffer.from(this.#value).toString('latin1')).trim().toUpperCase())
    }
    this.#name = []
    this.#value = []
    this.#inValue = false
    this.#tooLong = false
  }
}

/** Whether a request's body is a form whose `_method` an upstream may act on. */
export function isOverridableForm(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded'
}
