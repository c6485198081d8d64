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
 * A `_method` field in a form or JSON body is found as the body streams (`body-override.ts`).
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
export function paramName(raw: string): string {
  return formDecode(raw)
    .trim()
    .toLowerCase()
    .replace(/^[. []/, '_')
}

export function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}
