import { SECRETS } from '../fixture.js'
import { exact, forward, inner, refused, type CorpusCase, type Outcome } from './case.js'
import { BOT, ROAMER, onReverse, reverseCase, reversePost } from './reverse.js'

/**
 * Reverse routes: who is asking and what the request carries. The agent's Tollgate token comes
 * in the header its SDK puts an API key in (`Authorization: Bearer` or `X-Api-Key`); exactly one
 * token names the caller, neither header ever travels upstream, and the credential a route's
 * rule injects replaces them and never comes back (the runner looks for every spelling of it
 * in every byte returned). Then what every listener must hold on the reverse one too: methods,
 * upgrades and smuggling, requests pipelined behind a refusal included.
 */
const AMBIGUOUS = refused('TOLLGATE_AMBIGUOUS_TARGET')
const REQUIRED = refused('TOLLGATE_AUTH_REQUIRED')
const INVALID = refused('TOLLGATE_AUTH_INVALID')
const MALFORMED = refused('TOLLGATE_MALFORMED_REQUEST')
const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const MISUSE = refused('TOLLGATE_PLACEHOLDER_MISUSE')
const UPGRADE = refused('TOLLGATE_UPGRADE_DENIED')
const FORBIDDEN = refused('TOLLGATE_DESTINATION_FORBIDDEN')

const KEY = 'X-Api-Key: {token}\r\n'
const NOT_FORWARDED = { authorization: null, 'x-api-key': null }
const CRED = { 'x-api-key': '{secret:header}', authorization: null }
const WEBSOCKET =
  'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
const MANY = 'X-F: 1\r\n'.repeat(1500)

const ONE_CALLER = 'a request names exactly one caller: two different tokens are refused'
const NO_TOKEN = 'a token only counts in Authorization: Bearer or X-Api-Key'
const SCRUBBED = 'the injected credential reaches the upstream and never comes back'

/** A GET on `/echo/x` with these token lines (no default token). */
function token(id: string, rule: string, auth: string, expect: Outcome): CorpusCase {
  return reverseCase(id, rule, onReverse('GET', '/echo/x', '', auth), expect)
}

/** A GET as the narrow agent. */
function get(id: string, rule: string, target: string, expect: Outcome, extra = ''): CorpusCase {
  return reverseCase(id, rule, onReverse('GET', target, extra), expect)
}

const TOKENS: CorpusCase[] = [
  token('api-key', 'the token in X-Api-Key alone is read, and not forwarded', KEY, allowed()),
  token(
    'api-key-not-forwarded',
    'the same token in both headers is read once, and neither is forwarded',
    `${BOT}${KEY}`,
    allowed(),
  ),
  token('other-agent-api-key', ONE_CALLER, `${BOT}X-Api-Key: {roamer-token}\r\n`, AMBIGUOUS),
  token('other-agent-authorization', ONE_CALLER, `${ROAMER}${KEY}`, AMBIGUOUS),
  token('unknown-authorization', ONE_CALLER, `Authorization: Bearer wrong\r\n${KEY}`, AMBIGUOUS),
  token('basic-beside-api-key', ONE_CALLER, `Authorization: Basic YTpi\r\n${KEY}`, AMBIGUOUS),
  token('empty-api-key', ONE_CALLER, `X-Api-Key: \r\n${BOT}`, AMBIGUOUS),
  token(
    'other-agent-after-many',
    ONE_CALLER,
    `${BOT}${MANY}X-Api-Key: {roamer-token}\r\n`,
    AMBIGUOUS,
  ),
  token('two-api-keys', 'two X-Api-Key headers are refused', `${KEY}${KEY}`, AMBIGUOUS),
  token(
    'two-api-keys-case',
    'two X-Api-Key headers in different case are refused',
    `X-API-KEY: {token}\r\nx-api-key: {roamer-token}\r\n`,
    AMBIGUOUS,
  ),
  token('two-tokens', 'two Authorization headers are refused', `${BOT}${ROAMER}`, AMBIGUOUS),
  token(
    'two-tokens-after-many',
    'a second token past 1,000 headers is seen',
    `${BOT}${MANY}${BOT}`,
    AMBIGUOUS,
  ),
  token('token-after-many', 'a token past 1,000 headers is read', `${MANY}${BOT}`, allowed()),
  token('basic', NO_TOKEN, 'Authorization: {auth}\r\n', REQUIRED),
  token('scheme-token', NO_TOKEN, 'Authorization: Token {token}\r\n', REQUIRED),
  token('scheme-missing', NO_TOKEN, 'Authorization: {token}\r\n', REQUIRED),
  token('bearer-extra', NO_TOKEN, 'Authorization: Bearer {token} extra\r\n', REQUIRED),
  token('bearer-list', NO_TOKEN, 'Authorization: Bearer {token}, Bearer x\r\n', REQUIRED),
  token('api-key-list', NO_TOKEN, 'X-Api-Key: {token}, {roamer-token}\r\n', INVALID),
  token('api-key-bearer', NO_TOKEN, 'X-Api-Key: Bearer {token}\r\n', INVALID),
  token('api-key-underscore', NO_TOKEN, 'X_Api_Key: {token}\r\n', REQUIRED),
  token('api-key-other-name', NO_TOKEN, 'Api-Key: {token}\r\n', REQUIRED),
  token('proxy-authorization', NO_TOKEN, 'Proxy-Authorization: {bearer}\r\n', REQUIRED),
  token(
    'bearer-case-and-tabs',
    'the scheme is case-insensitive and tabs are whitespace',
    'AUTHORIZATION:\tbearer\t{token}\r\n',
    allowed(),
  ),
  token(
    'api-key-case',
    'X-Api-Key in any case is read and dropped',
    'X-API-KEY: {token}\r\n',
    allowed(),
  ),
  token(
    'space-before-colon',
    'a header name with a space is malformed',
    'X-Api-Key : {token}\r\n',
    MALFORMED,
  ),
  token(
    'obs-fold',
    'a folded token is malformed',
    'Authorization: Bearer\r\n {token}\r\n',
    MALFORMED,
  ),
  token(
    'nul-in-token',
    'a NUL in the token is malformed',
    'X-Api-Key: {token}\u0000\r\n',
    MALFORMED,
  ),
  reverseCase(
    'query-token',
    'a token in the query does not identify anyone',
    onReverse('GET', '/echo/x?api_key={token}', '', ''),
    REQUIRED,
  ),
  token('no-token', 'a reverse request without a token is refused with 401', '', REQUIRED),
  get(
    'proxy-authorization-not-forwarded',
    'Proxy-Authorization beside the token is never forwarded',
    '/echo/x',
    allowed({ 'proxy-authorization': null }),
    'Proxy-Authorization: {auth}\r\n',
  ),
  get(
    'connection-authorization',
    'naming Authorization in Connection neither hides the token nor forwards it',
    '/echo/x',
    allowed(),
    'Connection: authorization\r\n',
  ),
  reverseCase(
    'trailer-token',
    'a token in a chunked trailer is not read',
    `${onReverse('POST', '/echo/x', 'Transfer-Encoding: chunked\r\n')}5\r\nhello\r\n0\r\n${ROAMER}X-Api-Key: {roamer-token}\r\n\r\n`,
    exact('POST', '/allowed/x', { body: 'hello', headers: NOT_FORWARDED }),
  ),
]

const INJECTED: CorpusCase[] = [
  get('cred', SCRUBBED, '/echo-cred/x', exact('GET', '/cred/header/x', { headers: CRED })),
  reverseCase(
    'cred-api-key-token',
    'the token in X-Api-Key is replaced by the credential in the same header',
    onReverse('GET', '/echo-cred/x', '', KEY),
    exact('GET', '/cred/header/x', { headers: CRED }),
  ),
  get(
    'cred-connection-x-api-key',
    'naming the credential header in Connection cannot strip it',
    '/echo-cred/x',
    exact('GET', '/cred/header/x', { headers: CRED }),
    'Connection: x-api-key\r\n',
  ),
  reverseCase(
    'cred-connection-token-header',
    'naming the token header in Connection strips neither the credential nor the check',
    onReverse('GET', '/echo-cred/x', 'Connection: x-api-key, authorization\r\n', KEY),
    exact('GET', '/cred/header/x', { headers: CRED }),
  ),
  get(
    'cred-connection-accept-encoding',
    'naming Accept-Encoding in Connection cannot get a compressed, unscrubbed answer',
    '/echo-cred/x',
    exact('GET', '/cred/header/x', { headers: { 'accept-encoding': 'identity' } }),
    'Accept-Encoding: gzip\r\nConnection: accept-encoding\r\n',
  ),
  get(
    'cred-connection-host',
    'naming Host in Connection cannot drop the Host the relay sets',
    '/echo-cred/x',
    exact('GET', '/cred/header/x', { headers: CRED }),
    'Connection: host\r\n',
  ),
  get(
    'cred-query-name',
    'a query parameter named like the credential header is forwarded as sent',
    '/echo-cred/x?x-api-key=mine',
    exact('GET', '/cred/header/x?x-api-key=mine', { headers: CRED }),
  ),
  get(
    'cred-redirect',
    'a redirect whose Location carries the credential comes back scrubbed',
    '/echo-cred/redirect',
    exact('GET', '/cred/header/redirect', { headers: CRED }),
  ),
  get(
    'secure-cred',
    SCRUBBED,
    '/secure/x',
    exact('GET', '/cred/header/x', { host: '{secure}', headers: CRED }),
  ),
  get(
    'secure-redirect',
    'a redirect from an HTTPS route comes back scrubbed',
    '/secure/redirect',
    exact('GET', '/cred/header/redirect', { host: '{secure}', headers: CRED }),
    'Connection: x-api-key\r\n',
  ),
  get(
    'placeholder-header',
    'a placeholder is swapped on its bound route, and the echo of the secret scrubbed',
    '/echo-ph/x',
    exact('GET', '/cred/ph/x', { headers: { 'x-key': '{secret:placeholder}' } }),
    'X-Key: {ph}\r\n',
  ),
  get(
    'placeholder-path',
    'a placeholder in the path is swapped, encoded',
    '/echo-ph/{ph}',
    exact('GET', `/cred/ph/${encodeURIComponent(SECRETS['placeholder-secret'])}`),
  ),
  reverseCase(
    'placeholder-body',
    'a placeholder in the body is swapped',
    reversePost('/echo-ph/x', 'key={ph}'),
    exact('POST', '/cred/ph/x', { body: 'key={secret:placeholder}' }),
  ),
  get(
    'placeholder-no-credential',
    'a placeholder where the rule injects nothing travels unswapped',
    '/echo/x',
    exact('GET', '/allowed/x', { headers: { 'x-key': '{ph}' } }),
    'X-Key: {ph}\r\n',
  ),
  get('stray-placeholder-path', 'a foreign placeholder is refused', '/echo/{ph-else}', MISUSE),
  get('stray-placeholder-query', 'a foreign placeholder is refused', '/echo/x?k={ph-else}', MISUSE),
  get(
    'stray-placeholder-header',
    'a foreign placeholder is refused where another is swapped',
    '/echo-ph/x',
    MISUSE,
    'X-Key: {ph-else}\r\n',
  ),
  reverseCase(
    'stray-placeholder-body',
    'a foreign placeholder in the body is refused',
    reversePost('/echo/x', 'key={ph-else}'),
    MISUSE,
  ),
  reverseCase(
    'placeholder-as-token',
    'a placeholder in the token header beside a token is a second caller',
    onReverse('GET', '/echo-ph/x', '', `Authorization: Bearer {ph}\r\n${KEY}`),
    AMBIGUOUS,
  ),
]

const METHODS: CorpusCase[] = [
  reverseCase(
    'delete',
    'a method no rule allows is refused',
    onReverse('DELETE', '/echo/x'),
    NO_MATCH,
  ),
  reverseCase(
    'options',
    'a method no rule allows is refused',
    onReverse('OPTIONS', '/echo/x'),
    NO_MATCH,
  ),
  reverseCase('trace', 'TRACE is refused', onReverse('TRACE', '/echo/x'), NO_MATCH),
  reverseCase(
    'lower-case-method',
    'methods are case-sensitive',
    onReverse('get', '/echo/x'),
    MALFORMED,
  ),
  reverseCase(
    'long-method',
    'an unknown long method is refused',
    onReverse('M'.repeat(100), '/echo/x'),
    MALFORMED,
  ),
  get(
    'query-override',
    'method overrides are decided on reverse routes',
    '/echo/x?_method=DELETE',
    NO_MATCH,
  ),
  reverseCase(
    'query-override-post',
    'method overrides are decided on reverse routes',
    reversePost('/echo/x?_method=DELETE', 'a'),
    NO_MATCH,
  ),
  get(
    'header-override',
    'method override headers are decided on reverse routes',
    '/echo/x',
    NO_MATCH,
    'X-HTTP-Method-Override: DELETE\r\n',
  ),
  reverseCase(
    'body-override',
    'a _method field in a form body is decided on reverse routes',
    reversePost('/echo/x', '_method=DELETE', 'Content-Type: application/x-www-form-urlencoded\r\n'),
    NO_MATCH,
  ),
]

const UPGRADES: CorpusCase[] = [
  get(
    'upgrade',
    'an upgrade on a reverse route without websocket: true is refused',
    '/echo/ws',
    UPGRADE,
    WEBSOCKET,
  ),
  get(
    'upgrade-cred',
    'an upgrade is refused where a credential would be injected',
    '/echo-cred/ws',
    UPGRADE,
    WEBSOCKET,
  ),
  get(
    'upgrade-h2c',
    'h2c is refused on reverse routes',
    '/echo/x',
    UPGRADE,
    'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n',
  ),
  reverseCase(
    'upgrade-no-token',
    'an upgrade without a token is refused with 401',
    onReverse('GET', '/echo/ws', WEBSOCKET, ''),
    REQUIRED,
  ),
  get(
    'upgrade-unknown-route',
    'an upgrade to no route is refused',
    '/nope/ws',
    refused('TOLLGATE_UNKNOWN_ROUTE'),
    WEBSOCKET,
  ),
  get(
    'upgrade-climb',
    'an upgrade cannot climb out of the route',
    '/echo/../ws',
    refused('TOLLGATE_BAD_PATH'),
    WEBSOCKET,
  ),
  reverseCase(
    'upgrade-then-request',
    'bytes after a refused upgrade are never read as a request',
    onReverse('GET', '/echo/ws', WEBSOCKET) + onReverse('GET', '/echo/smuggled'),
    UPGRADE,
  ),
]

// A whole request whose length is known without substitutions, for chunk sizes.
const SMUGGLED = 'GET /echo/smuggled HTTP/1.1\r\nHost: relay.test\r\n\r\n'
const AFTER = exact('GET', '/allowed/after')
const CLOSED = 'nothing pipelined behind a refusal that closes the connection is decided or sent'
const IN_TURN = 'a CONNECT or upgrade pipelined behind a request is answered after it, in turn'

const SMUGGLING: CorpusCase[] = [
  reverseCase(
    'smuggled-body',
    'the body of a refused reverse request is never read as a request',
    reversePost('/echo/../x', `GET /echo/smuggled HTTP/1.1\r\nHost: relay.test\r\n${BOT}\r\n`),
    refused('TOLLGATE_BAD_PATH'),
  ),
  reverseCase(
    'smuggled-chunk',
    'a chunked body of a refused request is never read as a request',
    `${onReverse('POST', '/nope/x', 'Transfer-Encoding: chunked\r\n')}${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    refused('TOLLGATE_UNKNOWN_ROUTE'),
  ),
  reverseCase(
    'cl-and-te',
    'Content-Length with Transfer-Encoding is refused',
    `${onReverse('POST', '/echo/x', 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n')}0\r\n\r\n${SMUGGLED}`,
    MALFORMED,
  ),
  reverseCase(
    'te-list',
    'a Transfer-Encoding other than a single chunked is refused',
    `${onReverse('POST', '/echo/x', 'Transfer-Encoding: chunked, identity\r\n')}0\r\n\r\n`,
    MALFORMED,
  ),
  reverseCase(
    'two-content-lengths',
    'two Content-Length headers are refused',
    `${onReverse('POST', '/echo/x', 'Content-Length: 5\r\nContent-Length: 6\r\n')}hello!`,
    MALFORMED,
  ),
  get(
    'huge-header',
    'an oversized head is refused with 431',
    '/echo/x',
    refused('TOLLGATE_HEADERS_TOO_LARGE'),
    `X-Big: ${'a'.repeat(40_000)}\r\n`,
  ),
  reverseCase(
    'expect-continue',
    'Expect: 100-continue is answered only once the request is allowed',
    reversePost('/echo/x', 'hello', 'Expect: 100-continue\r\n'),
    exact('POST', '/allowed/x', { body: 'hello', headers: { expect: null } }),
  ),
  reverseCase(
    'expect-continue-refused',
    'a refused request is never invited to send its body',
    reversePost('/echo/../x', 'hello', 'Expect: 100-continue\r\n'),
    refused('TOLLGATE_BAD_PATH'),
  ),
  reverseCase(
    'pipelined-after-unknown-route',
    'a request pipelined after a refused one is decided on its own',
    onReverse('GET', '/nope/x') + onReverse('GET', '/echo/after'),
    [refused('TOLLGATE_UNKNOWN_ROUTE'), AFTER],
  ),
  reverseCase(
    'pipelined-after-bad-path',
    'a request pipelined after a refused one is decided on its own',
    onReverse('GET', '/echo/../x') + onReverse('GET', '/echo/after'),
    [refused('TOLLGATE_BAD_PATH'), AFTER],
  ),
  reverseCase(
    'pipelined-after-two-callers',
    'a request pipelined after a refused one is decided on its own',
    onReverse('GET', '/echo/x', '', `${BOT}${ROAMER}`) + onReverse('GET', '/echo/after'),
    [AMBIGUOUS, AFTER],
  ),
  reverseCase(
    'agents-alternate',
    'each request on a connection is identified on its own',
    onReverse('GET', '/echo/x', '', ROAMER) + onReverse('GET', '/echo/after'),
    [FORBIDDEN, AFTER],
  ),
  reverseCase(
    'agents-alternate-back',
    'each request on a connection is identified on its own',
    onReverse('GET', '/echo/after') + onReverse('GET', '/echo/x', '', ROAMER),
    [AFTER, FORBIDDEN],
  ),
  // What is pipelined behind these must never reach the echo; if it did, it would arrive
  // after the case has ended, so each names its case in the path for the next one to show.
  reverseCase(
    'pipelined-after-bad-token',
    CLOSED,
    onReverse('GET', '/echo/x', '', 'Authorization: Bearer wrong\r\n') +
      onReverse('GET', '/echo/after-bad-token'),
    INVALID,
  ),
  reverseCase(
    'pipelined-after-no-token',
    CLOSED,
    onReverse('GET', '/echo/x', '', '') + onReverse('GET', '/echo/after-no-token'),
    REQUIRED,
  ),
  reverseCase(
    'pipelined-after-malformed',
    CLOSED,
    onReverse('GET', '/echo/x', 'Expect: x-other\r\n') + onReverse('GET', '/echo/after-malformed'),
    MALFORMED,
  ),
  reverseCase(
    'upgrade-pipelined-after-bad-token',
    CLOSED,
    onReverse('GET', '/echo/x', '', 'Authorization: Bearer wrong\r\n') +
      onReverse('GET', '/echo/ws-after-bad-token', WEBSOCKET),
    INVALID,
  ),
  reverseCase(
    'upgrade-pipelined-after-request',
    IN_TURN,
    onReverse('GET', '/echo/first') + onReverse('GET', '/echo/ws', WEBSOCKET),
    [exact('GET', '/allowed/first'), UPGRADE],
  ),
  reverseCase(
    'upgrade-pipelined-after-refusal',
    IN_TURN,
    onReverse('GET', '/nope/x') + onReverse('GET', '/echo/ws', WEBSOCKET),
    [refused('TOLLGATE_UNKNOWN_ROUTE'), UPGRADE],
  ),
  reverseCase(
    'upgrade-pipelined-unauthenticated',
    IN_TURN,
    onReverse('GET', '/nope/x', '', '') + onReverse('GET', '/nope/ws', WEBSOCKET, ''),
    REQUIRED,
  ),
  reverseCase(
    'connect-pipelined-after-request',
    IN_TURN,
    onReverse('GET', '/echo/first') + 'CONNECT a.test:1 HTTP/1.1\r\nHost: a.test:1\r\n\r\n',
    [exact('GET', '/allowed/first'), MALFORMED],
  ),
  reverseCase(
    'connect-then-request',
    'bytes after a CONNECT to the reverse listener are never read as a request',
    `CONNECT echo.test:80 HTTP/1.1\r\nHost: echo.test:80\r\n${BOT}\r\n${onReverse('GET', '/echo/smuggled')}`,
    MALFORMED,
  ),
  reverseCase(
    'connect-origin-form',
    'a CONNECT naming a route is refused',
    onReverse('CONNECT', '/echo/x'),
    MALFORMED,
  ),
]

// Found through the reverse listener; the same holds on the forward proxy and in tunnels.
const FORWARD_AUTH = 'Proxy-Authorization: {auth}\r\n'
const ELSEWHERE: CorpusCase[] = [
  {
    id: 'framing/pipelined-after-auth-refusal',
    category: 'framing',
    rule: CLOSED,
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: Bearer wrong\r\n\r\n${forward('GET', 'http://{target}/allowed/after-407')}`,
    expect: [INVALID],
  },
  {
    id: 'framing/upgrade-pipelined-after-request',
    category: 'framing',
    rule: IN_TURN,
    send:
      forward('GET', 'http://{target}/allowed/first') +
      forward('GET', 'http://{target}/allowed/ws', WEBSOCKET),
    expect: [exact('GET', '/allowed/first'), UPGRADE],
  },
  {
    id: 'framing/upgrade-pipelined-unauthenticated',
    category: 'framing',
    rule: IN_TURN,
    send: `GET http://{target}/x HTTP/1.1\r\nHost: {target}\r\n\r\nGET http://{target}/ws HTTP/1.1\r\nHost: {target}\r\n${WEBSOCKET}\r\n`,
    expect: [refused('TOLLGATE_AUTH_REQUIRED')],
  },
  {
    id: 'connect/pipelined-after-request',
    category: 'connect',
    rule: IN_TURN,
    send: `${forward('GET', 'http://{target}/allowed/first')}CONNECT sentinel.test:443 HTTP/1.1\r\nHost: sentinel.test:443\r\n${FORWARD_AUTH}\r\n`,
    expect: [exact('GET', '/allowed/first'), NO_MATCH],
  },
  {
    id: 'tunnel/pipelined-after-misdirected',
    category: 'tunnel',
    rule: CLOSED,
    send: inner('GET', '/allowed/x', '', 'sentinel.test:{T}') + inner('GET', '/allowed/after-421'),
    expect: [refused('TOLLGATE_MISDIRECTED')],
    tunnel: { authority: '{secure}', sni: 'secure.test' },
  },
  {
    id: 'tunnel/upgrade-pipelined-after-request',
    category: 'tunnel',
    rule: IN_TURN,
    send: inner('GET', '/allowed/first') + inner('GET', '/allowed/ws', WEBSOCKET),
    expect: [exact('GET', '/allowed/first', { host: '{secure}' }), UPGRADE],
    tunnel: { authority: '{secure}', sni: 'secure.test' },
  },
]

/** Reached the echo as `GET /allowed/x`, without either token header. */
function allowed(headers: Record<string, string | null> = {}): Outcome {
  return exact('GET', '/allowed/x', { headers: { ...NOT_FORWARDED, ...headers } })
}

export const REVERSE_TOKENS: CorpusCase[] = [
  ...TOKENS,
  ...INJECTED,
  ...METHODS,
  ...UPGRADES,
  ...SMUGGLING,
  ...ELSEWHERE,
]
