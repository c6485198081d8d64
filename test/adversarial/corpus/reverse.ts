import { refused, type CorpusCase, type Outcome, exact } from './case.js'

/**
 * Reverse routes: where a request goes. `/<route>/<rest>` goes to the route's upstream base
 * URL (see `fixture.ts`): `echo` → `http://echo.test:{P}/allowed`, `echo-cred` → `/cred/header`
 * (a credential is injected), `echo-ph` → `/cred/ph` (a placeholder is swapped), `echo-root` →
 * the echo without a base path, `echo-admin` → `/allowed/admin` (denied), `secure` → the HTTPS
 * echo's `/cred/header`, `sentinel` and `private` → hosts the narrow agent has no rule for and
 * the roaming agent may not reach by address. The agent supplies only the rest of the path,
 * which must never climb out of the route's base path, name another host or another route.
 * Who is asking and what the request carries is in `reverse-tokens.ts`.
 */
const C = 'reverse' as const

/** The narrow agent's token as an OpenAI-style SDK sends it. */
export const BOT = 'Authorization: {bearer}\r\n'
/** The roaming agent's token, the same way: any host, public addresses only. */
export const ROAMER = 'Authorization: {roamer-bearer}\r\n'

/** A request to the reverse listener: `Host: relay.test`, the token line(s), then `extra`. */
export function onReverse(method: string, target: string, extra = '', auth = BOT): string {
  return `${method} ${target} HTTP/1.1\r\nHost: relay.test\r\n${auth}${extra}\r\n`
}

/** The same as a POST with a body and its exact `Content-Length`. */
export function reversePost(target: string, body: string, extra = '', auth = BOT): string {
  return onReverse('POST', target, `${extra}Content-Length: {length}\r\n`, auth) + `${body}{end}`
}

/** A case for the reverse listener; one outcome per pipelined request. */
export function reverseCase(
  id: string,
  rule: string,
  send: string,
  expect: Outcome | Outcome[],
  more: Pick<CorpusCase, 'knownGap'> = {},
): CorpusCase {
  const outcomes = Array.isArray(expect) ? expect : [expect]
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    listener: 'reverse',
    send,
    expect: outcomes,
    ...more,
  }
}

/** A GET on the reverse listener as the narrow agent. */
function reverse(
  id: string,
  rule: string,
  target: string,
  expect: Outcome,
  extra = '',
  auth = BOT,
): CorpusCase {
  return reverseCase(id, rule, onReverse('GET', target, extra, auth), expect)
}

const BAD = refused('TOLLGATE_BAD_PATH')
const UNKNOWN = refused('TOLLGATE_UNKNOWN_ROUTE')
const DENIED = refused('TOLLGATE_POLICY_DENIED')
const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const FORBIDDEN = refused('TOLLGATE_DESTINATION_FORBIDDEN')
const MALFORMED = refused('TOLLGATE_MALFORMED_REQUEST')

const CLIMB = 'the rest of the path cannot climb out of the route'
const STEER = 'the path cannot name another host'
const EXACT_NAME = 'route names are exact: no decoding, folding or prefix matching'
const HOST_IGNORED = 'the Host header does not choose the upstream'
const CRED = { 'x-api-key': '{secret:header}', authorization: null }

const ROUTE_NAMES: CorpusCase[] = [
  reverse('route-case', EXACT_NAME, '/ECHO/x', UNKNOWN),
  reverse('route-encoded', EXACT_NAME, '/%65cho/x', UNKNOWN),
  reverse('route-dots', 'a route name cannot be reached through dots', '/x/../echo/x', UNKNOWN),
  reverse('route-semicolon', EXACT_NAME, '/echo;x/x', UNKNOWN),
  reverse('route-double-slash', EXACT_NAME, '//echo/x', UNKNOWN),
  reverse('route-trailing-dot', EXACT_NAME, '/echo./x', UNKNOWN),
  reverse('route-encoded-dot', EXACT_NAME, '/echo%2e/x', UNKNOWN),
  reverse('route-encoded-slash', EXACT_NAME, '/echo%2f../x', UNKNOWN),
  reverse('route-encoded-slash-other', EXACT_NAME, '/echo-cred%2F..%2Fecho/x', UNKNOWN),
  reverse('route-encoded-hyphen', EXACT_NAME, '/echo%2Dcred/x', UNKNOWN),
  reverse('route-encoded-nul', EXACT_NAME, '/echo%00/x', UNKNOWN),
  reverse('route-encoded-space', EXACT_NAME, '/echo%20/x', UNKNOWN),
  reverse('route-fragment', EXACT_NAME, '/echo#x', UNKNOWN),
  reverse('route-prefix-of-name', EXACT_NAME, '/ech/x', UNKNOWN),
  reverse('route-trailing-hyphen', EXACT_NAME, '/echo-/x', UNKNOWN),
  reverse('route-object-key', 'a route name is not an object key', '/constructor/x', UNKNOWN),
  reverse('route-long', EXACT_NAME, `/${'a'.repeat(5000)}/x`, UNKNOWN),
  reverse('route-asterisk', 'the asterisk form names no route', '*', UNKNOWN),
  reverse(
    'route-longer-name',
    'of two routes where one name is a prefix of the other, the whole name decides',
    '/echo-cred/x',
    exact('GET', '/cred/header/x', { headers: CRED }),
  ),
  reverse(
    'route-into-other-route',
    'dots cannot lead from one route into another',
    '/echo/../echo-cred/x',
    BAD,
  ),
  reverse('route-bare', 'the route alone is its base path', '/echo', exact('GET', '/allowed')),
  reverse(
    'route-query',
    'a query straight after the route name goes to the base path',
    '/echo?x=1',
    exact('GET', '/allowed?x=1'),
  ),
  reverse(
    'route-query-dots',
    'dots in the query are not a path',
    '/echo?/../admin',
    exact('GET', '/allowed?/../admin'),
  ),
]

const BASE_PATHS: CorpusCase[] = [
  reverse(
    'baseline',
    'a route request reaches the route upstream with the route base path',
    '/echo/x',
    exact('GET', '/allowed/x', { headers: { authorization: null } }),
  ),
  reverse('dots', CLIMB, '/echo/../x', BAD),
  reverse('dots-alone', CLIMB, '/echo/..', BAD),
  reverse(
    'dots-inside',
    'dots inside the rest resolve within it',
    '/echo/a/../x',
    exact('GET', '/allowed/x'),
  ),
  reverse(
    'dots-back-to-base',
    'dots may return to the base',
    '/echo/x/..',
    exact('GET', '/allowed'),
  ),
  reverse('single-dot', 'a single dot is the base', '/echo/.', exact('GET', '/allowed')),
  reverse('encoded-dots', CLIMB, '/echo/%2e%2e/x', BAD),
  reverse('encoded-dots-upper', CLIMB, '/echo/%2E%2E', BAD),
  reverse('encoded-dots-mixed', CLIMB, '/echo/.%2e/', BAD),
  reverse('encoded-dots-deep', CLIMB, '/echo/a/%2e%2e/%2e%2e/admin', BAD),
  reverse('encoded-slash', CLIMB, '/echo/..%2fx', BAD),
  reverse('encoded-slashes-climb', CLIMB, '/echo/x%2F..%2F..%2Fcred', BAD),
  reverse('double-encoded-dots', CLIMB, '/echo/%252e%252e/x', BAD),
  reverse('encoded-backslash', CLIMB, '/echo/%5c..%5cx', BAD),
  reverse('overlong-dots', CLIMB, '/echo/%c0%ae%c0%ae/x', BAD),
  reverse('encoded-question-climb', CLIMB, '/echo/x%3F/../../admin', BAD),
  reverse(
    'encoded-question',
    'an encoded ? is part of the path, and the path is decided',
    '/echo/x%3F/../admin/keys',
    DENIED,
  ),
  reverse(
    'query-dots',
    'the query is forwarded as sent, never resolved into the path',
    '/echo/x?/../../admin',
    exact('GET', '/allowed/x?/../../admin'),
  ),
  reverse(
    'into-denied',
    'a denied path under the route base is still denied',
    '/echo/admin/keys',
    DENIED,
  ),
  reverse('into-denied-encoded', 'unreserved escapes are decoded first', '/echo/%61dmin/k', DENIED),
  reverse(
    'utf8-escapes',
    'escaped UTF-8 is forwarded as sent',
    '/echo/%C3%A9',
    exact('GET', '/allowed/%C3%A9'),
  ),
  reverse('raw-latin1', 'raw bytes above ASCII are refused', '/echo/\u00e9', MALFORMED),
  reverse('encoded-nul', 'an encoded NUL is refused', '/echo/a%00b', BAD),
  reverse('bare-percent', 'a bare % is refused', '/echo/%', BAD),
  reverse('bad-escape', 'a bad escape is refused', '/echo/%zz', BAD),
  reverse('fragment', 'a fragment is refused', '/echo/x#f', BAD),
  reverse('double-slash', STEER, '/echo//sentinel.test/x', BAD),
  reverse('backslash', STEER, '/echo/\\sentinel.test/x', BAD),
  reverse('userinfo', STEER, '/echo@sentinel.test/x', UNKNOWN),
  reverse('absolute-form', STEER, 'http://sentinel.test/echo/x', UNKNOWN),
  reverse('absolute-form-route', STEER, 'http://{target}/allowed/x', UNKNOWN),
  reverse('absolute-form-relay', STEER, 'http://relay.test/echo/x', UNKNOWN),
  reverse('denied-base', 'a route whose base is denied is denied', '/echo-admin/x', DENIED),
  reverse('denied-base-bare', 'a route whose base is denied is denied', '/echo-admin', DENIED),
  reverse('denied-base-query', 'a route whose base is denied is denied', '/echo-admin?x', DENIED),
  reverse('denied-base-climb', CLIMB, '/echo-admin/../x', BAD),
  reverse(
    'root-route',
    'a route without a base path passes the rest as the whole path',
    '/echo-root/allowed/x',
    exact('GET', '/allowed/x'),
  ),
  reverse('root-route-empty', 'policy decides the bare root', '/echo-root/', NO_MATCH),
  reverse('root-route-double-slash', STEER, '/echo-root//sentinel.test/x', BAD),
  reverse('root-route-denied', 'policy decides every path', '/echo-root/allowed/admin/x', DENIED),
  reverse(
    'root-route-dots',
    'without a base path, dots resolve within the upstream and the result is what is decided',
    '/echo-root/allowed/%2e%2e/cred/header/x',
    exact('GET', '/cred/header/x', { headers: CRED }),
  ),
]

const DESTINATIONS: CorpusCase[] = [
  reverse('route-no-rule', 'a route is no exemption from policy', '/sentinel/x', NO_MATCH),
  reverse(
    'route-loopback',
    'a route to a forbidden address is refused before any connection',
    '/sentinel/x',
    FORBIDDEN,
    '',
    ROAMER,
  ),
  reverse(
    'route-private',
    'a route to a private address is refused',
    '/private/x',
    FORBIDDEN,
    '',
    ROAMER,
  ),
  reverse(
    'route-allowance',
    "an agent without the rule's address allowance is refused",
    '/echo/x',
    FORBIDDEN,
    '',
    ROAMER,
  ),
  reverse(
    'host-header-ignored',
    HOST_IGNORED,
    '/echo/x',
    exact('GET', '/allowed/x'),
    'X-Forwarded-Host: sentinel.test\r\n',
  ),
  reverse(
    'host-duplicate',
    HOST_IGNORED,
    '/echo/x',
    exact('GET', '/allowed/x'),
    'Host: sentinel.test\r\n',
  ),
  reverseCase(
    'host-only-other',
    HOST_IGNORED,
    'GET /echo/x HTTP/1.1\r\nHost: sentinel.test:{P}\r\nAuthorization: {bearer}\r\n\r\n',
    exact('GET', '/allowed/x'),
  ),
  reverseCase(
    'host-missing',
    'a request without Host still goes to the route upstream',
    'GET /echo/x HTTP/1.1\r\nAuthorization: {bearer}\r\n\r\n',
    exact('GET', '/allowed/x'),
  ),
  reverseCase(
    'http10',
    'an HTTP/1.0 request goes to the route upstream with its Host',
    'GET /echo/x HTTP/1.0\r\nAuthorization: {bearer}\r\n\r\n',
    exact('GET', '/allowed/x'),
  ),
  reverseCase(
    'http2-request-line',
    'a request line of another HTTP version is refused',
    'GET /echo/x HTTP/2.0\r\nAuthorization: {bearer}\r\n\r\n',
    MALFORMED,
  ),
  reverse(
    'forwarded-ignored',
    'Forwarded and X-Original-Host do not steer the request',
    '/echo/x',
    exact('GET', '/allowed/x', { headers: { forwarded: 'host=sentinel.test' } }),
    'Forwarded: host=sentinel.test\r\nX-Original-Host: sentinel.test\r\n',
  ),
  // IIS URL Rewrite, Laminas and old Symfony route on these headers instead of the request
  // line, and auth gateways judge the path they name, the way frameworks honour method
  // overrides: every path an override names is decided like the path.
  pathOverride('path-override-header', 'X-Original-URL: /allowed/admin/keys', DENIED),
  pathOverride('path-override-rewrite', 'X-Rewrite-URL: /allowed/admin/keys', DENIED),
  pathOverride('path-override-cgi-name', 'X_ORIGINAL_URL: /allowed/admin/keys', DENIED),
  pathOverride('path-override-forwarded-uri', 'X-Forwarded-Uri: /allowed/admin/keys', DENIED),
  pathOverride('path-override-unmatched', 'X-Original-URL: /sentinel', NO_MATCH),
  pathOverride('path-override-dots', 'X-Original-URL: /allowed/x/../admin/keys', DENIED),
  pathOverride('path-override-encoded', 'X-Original-URL: /allowed/%61dmin/keys', DENIED),
  pathOverride('path-override-absolute', 'X-Original-URL: http://sentinel.test/', BAD),
  pathOverride('path-override-climb', 'X-Rewrite-URL: /../../etc/passwd', BAD),
  pathOverride(
    'path-override-second',
    'X-Original-URL: /allowed/y\r\nX-Original-URL: /allowed/admin/keys',
    DENIED,
  ),
  pathOverride(
    'path-override-allowed',
    'X-Original-URL: /allowed/y?q=1',
    exact('GET', '/allowed/x', { headers: { 'x-original-url': '/allowed/y?q=1' } }),
  ),
  pathOverride('path-override-method', 'X-Original-URL: /allowed/y?_method=DELETE', NO_MATCH),
]

/** A GET on `/echo/x` (the echo's `/allowed/x`) with a header that overrides the path. */
function pathOverride(id: string, header: string, expect: Outcome): CorpusCase {
  const rule = 'a header that some upstreams read as the path is decided like the path'
  return reverseCase(id, rule, onReverse('GET', '/echo/x', `${header}\r\n`), expect)
}

export const REVERSE: CorpusCase[] = [...ROUTE_NAMES, ...BASE_PATHS, ...DESTINATIONS]
