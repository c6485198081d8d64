import type { ErrorCode } from '../../../src/errors/codes.js'

/** The families of attack in issue #3; every case belongs to exactly one. */
export type Category =
  | 'host-identity'
  | 'ssrf'
  | 'paths'
  | 'methods'
  | 'framing'
  | 'hop-by-hop'
  | 'connect'
  | 'tunnel'
  | 'upgrades'
  | 'credentials'
  | 'reverse'

/**
 * The relay refused with its own error: a 4xx, a JSON body whose `error.code` equals the
 * `tollgate-error` header and is a code from `src/errors/codes.ts`, with `code` when given.
 */
export interface Refused {
  kind: 'refused'
  code?: ErrorCode
}

/**
 * The request reached the upstream, and the upstream saw exactly this: method, request
 * target and `Host`, and where given the body and some headers (`null`: the header is absent).
 */
export interface AllowedExact {
  kind: 'allowed-exact'
  method: string
  url: string
  host: string
  body?: string
  headers?: Record<string, string | null>
}

export type Outcome = Refused | AllowedExact

/**
 * One crafted request (or a few, pipelined on one connection) and what must come of it.
 *
 * `send` is the raw bytes, with `{name}` substitutions filled in by the runner (see
 * `fixture.ts`: `{target}`, `{auth}`, `{P}`…). `Content-Length: {length}` is replaced by the
 * byte length of what lies between the blank line that follows it and the next `{end}`.
 * Characters above U+00FF are sent as UTF-8, everything else byte for byte.
 */
export interface CorpusCase {
  /** Stable and unique: `<category>/<what>`. */
  id: string
  category: Category
  /** The property of the relay this case checks, in a sentence. */
  rule: string
  send: string
  /** One outcome per response, in order. After them, the connection holds nothing more. */
  expect: Outcome[]
  /** `reverse`: the reverse-route listener. Default: the forward proxy. */
  listener?: 'forward' | 'reverse'
  /** Send `send` inside a CONNECT tunnel to `authority`, after TLS with this SNI (null: none). */
  tunnel?: { authority: string; sni: string | null }
  /**
   * A known gap, with the issue that tracks it: the case runs and must still fail the same way
   * until the gap is closed (then this marker goes). Never used to weaken a case.
   */
  knownGap?: string
}

export function refused(code?: ErrorCode): Refused {
  return code === undefined ? { kind: 'refused' } : { kind: 'refused', code }
}

/** Reached the echo upstream as `method url`, with `Host: echo.test:{P}` unless told otherwise. */
export function exact(
  method: string,
  url: string,
  more: Partial<Omit<AllowedExact, 'kind' | 'method' | 'url'>> = {},
): AllowedExact {
  return { kind: 'allowed-exact', method, url, host: '{target}', ...more }
}

/** An absolute-form request to the forward proxy as the narrow agent. */
export function forward(method: string, url: string, extra = '', body = ''): string {
  return `${method} ${url} HTTP/1.1\r\nHost: ${hostOf(url)}\r\nProxy-Authorization: {auth}\r\n${extra}\r\n${body}`
}

/** The same, to `http://{target}` plus `path`. */
export function echoGet(path: string, extra = ''): string {
  return forward('GET', `http://{target}${path}`, extra)
}

/** A POST with a body and its exact `Content-Length`. */
export function echoPost(path: string, body: string, extra = ''): string {
  return forward(
    'POST',
    `http://{target}${path}`,
    `${extra}Content-Length: {length}\r\n`,
    `${body}{end}`,
  )
}

/** An absolute-form GET as the roaming agent (any host, public addresses only). */
export function roam(url: string, extra = ''): string {
  return `GET ${url} HTTP/1.1\r\nHost: ${hostOf(url)}\r\nProxy-Authorization: {roamer}\r\n${extra}\r\n`
}

/** A request inside a tunnel to `secure.test`: origin-form, no proxy credentials. */
export function inner(method: string, path: string, extra = '', host = '{secure}'): string {
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`
}

function hostOf(url: string): string {
  const match = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)
  return match?.[1] ?? '{target}'
}
