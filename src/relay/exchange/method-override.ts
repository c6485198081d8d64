import type { IncomingMessage } from 'node:http'

/** Headers frameworks read to replace the request method (Rails, Express, Laravel, Google). */
const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override']

/** Query parameters that do the same in some frameworks. */
const OVERRIDE_PARAMS = /(?:^|&)(?:_method|method)=([^&]*)/gi

/**
 * Every method the upstream might act on besides the request line's: an upstream that honours
 * `X-HTTP-Method-Override: DELETE` on a POST deletes, so the relay must decide on DELETE too.
 */
export function overriddenMethods(req: IncomingMessage, query: string): string[] {
  const methods = new Set<string>()
  for (const name of OVERRIDE_HEADERS) {
    const value = req.headers[name]
    for (const item of Array.isArray(value) ? value : value ? [value] : []) {
      methods.add(item.trim().toUpperCase())
    }
  }
  for (const match of query.slice(1).matchAll(OVERRIDE_PARAMS)) {
    methods.add(
      safeDecode(match[1] ?? '')
        .trim()
        .toUpperCase(),
    )
  }
  methods.delete(req.method ?? '')
  return [...methods]
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}
