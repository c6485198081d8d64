import { exact, inner, refused, type CorpusCase, type Outcome } from './case.js'

/**
 * CONNECT and what happens inside a tunnel. A CONNECT opens only to a host and port a rule
 * allows (for the narrow agent: `secure.test:{T}`); inside, the CONNECT target, the TLS SNI and
 * every request's `Host` must agree (421 if not), and each request is decided on its own.
 */
const CONNECT = 'connect' as const
const TUNNEL = 'tunnel' as const

const AUTH = 'Proxy-Authorization: {auth}\r\n'
const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const AMBIGUOUS = refused('TOLLGATE_AMBIGUOUS_TARGET')
const MISDIRECTED = refused('TOLLGATE_MISDIRECTED')

function connect(
  id: string,
  rule: string,
  authority: string,
  expect: Outcome,
  extra = AUTH,
): CorpusCase {
  return {
    id: `${CONNECT}/${id}`,
    category: CONNECT,
    rule,
    send: `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`,
    expect: [expect],
  }
}

/** Bytes sent inside a tunnel to `secure.test:{T}`, after TLS with `sni`. */
function tunnel(
  id: string,
  rule: string,
  send: string,
  expect: Outcome[],
  sni: string | null = 'secure.test',
): CorpusCase {
  return {
    id: `${TUNNEL}/${id}`,
    category: TUNNEL,
    rule,
    send,
    expect,
    tunnel: { authority: '{secure}', sni },
  }
}

const TLS_HOST = '{secure}'
const FORBIDDEN_HOST = 'a CONNECT to a host or port no rule allows is refused before any TLS'
const AUTHORITY = 'a CONNECT target must be exactly host:port'
const SAME_HOST = 'inside a tunnel, Host must name the CONNECT target'

export const CONNECTS: CorpusCase[] = [
  connect('sentinel-host', FORBIDDEN_HOST, 'sentinel.test:443', NO_MATCH),
  connect('sentinel-port', FORBIDDEN_HOST, 'secure.test:{S}', NO_MATCH),
  connect('allowed-host-http-port', FORBIDDEN_HOST, 'echo.test:{P}', NO_MATCH),
  connect('loopback-literal', FORBIDDEN_HOST, '127.0.0.1:{T}', NO_MATCH),
  connect('loopback-v6', FORBIDDEN_HOST, '[::1]:{T}', NO_MATCH),
  connect('metadata', FORBIDDEN_HOST, '169.254.169.254:443', NO_MATCH),
  connect('ssh-port', FORBIDDEN_HOST, 'secure.test:22', NO_MATCH),
  connect(
    'decimal-ip',
    'a numeric host spelling is read as its address in CONNECT too',
    '2130706433:{T}',
    NO_MATCH,
  ),
  connect(
    'short-ip',
    'a numeric host spelling is read as its address in CONNECT too',
    '127.1:{T}',
    NO_MATCH,
  ),
  connect('no-port', AUTHORITY, 'secure.test', AMBIGUOUS),
  connect('empty-port', AUTHORITY, 'secure.test:', AMBIGUOUS),
  connect('with-path', AUTHORITY, 'secure.test:{T}/allowed', AMBIGUOUS),
  connect('absolute-url', AUTHORITY, 'https://secure.test:{T}/', AMBIGUOUS),
  connect('userinfo', AUTHORITY, 'user@secure.test:{T}', AMBIGUOUS),
  connect('userinfo-other-host', AUTHORITY, 'secure.test:{T}@sentinel.test:443', AMBIGUOUS),
  connect('port-twice', AUTHORITY, 'secure.test:{T}:{T}', AMBIGUOUS),
  connect('percent-in-host', AUTHORITY, 'secure%2etest:{T}', AMBIGUOUS),
  connect('asterisk', AUTHORITY, '*', AMBIGUOUS),
  connect(
    'no-credentials',
    'a CONNECT without proxy credentials is refused with 407',
    '{secure}',
    refused('TOLLGATE_AUTH_REQUIRED'),
    '',
  ),
  connect(
    'bad-token',
    'a CONNECT with an unknown token is refused with 407',
    '{secure}',
    refused('TOLLGATE_AUTH_INVALID'),
    'Proxy-Authorization: Bearer tgt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n',
  ),
  connect(
    'other-agents-name',
    'a token presented under another agent name is refused',
    '{secure}',
    refused('TOLLGATE_AUTH_AGENT_MISMATCH'),
    'Proxy-Authorization: {other-agent}\r\n',
  ),
  connect(
    'roamer-https',
    'the roaming agent has no rule for https at all',
    '{secure}',
    NO_MATCH,
    'Proxy-Authorization: {roamer}\r\n',
  ),
  {
    id: `${CONNECT}/lower-case-method`,
    category: CONNECT,
    rule: 'connect in lower case is refused',
    send: `connect {secure} HTTP/1.1\r\nHost: {secure}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${CONNECT}/bytes-after-refused`,
    category: CONNECT,
    rule: 'bytes sent after a refused CONNECT are never read as a request',
    send: `CONNECT sentinel.test:443 HTTP/1.1\r\nHost: sentinel.test:443\r\n${AUTH}\r\nGET http://{target}/allowed/smuggled HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [NO_MATCH],
  },
  {
    id: `${CONNECT}/tls-after-refused`,
    category: CONNECT,
    rule: 'a ClientHello sent ahead of a refused CONNECT goes nowhere',
    send: `CONNECT sentinel.test:443 HTTP/1.1\r\nHost: sentinel.test:443\r\n${AUTH}\r\n\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00`,
    expect: [NO_MATCH],
  },
  {
    id: `${CONNECT}/bytes-after-unauthenticated`,
    category: CONNECT,
    rule: 'bytes sent after a CONNECT refused with 407 are never read as a request',
    send: `CONNECT {secure} HTTP/1.1\r\nHost: {secure}\r\n\r\nGET http://{target}/allowed/smuggled HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_AUTH_REQUIRED')],
  },
  {
    id: `${CONNECT}/bytes-after-malformed`,
    category: CONNECT,
    rule: 'bytes sent after a malformed CONNECT are never read as a request',
    send: `CONNECT secure.test HTTP/1.1\r\nHost: secure.test\r\n${AUTH}\r\nGET http://{target}/allowed/smuggled HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [AMBIGUOUS],
  },
  {
    id: `${CONNECT}/reverse-listener`,
    category: CONNECT,
    rule: 'a CONNECT to the reverse listener is refused with a JSON error',
    listener: 'reverse',
    send: 'CONNECT sentinel.test:443 HTTP/1.1\r\nHost: sentinel.test:443\r\nAuthorization: {bearer}\r\n\r\n',
    expect: [refused()],
  },

  // Inside an intercepted tunnel.
  tunnel(
    'baseline',
    'a request inside the tunnel is decided and reaches the upstream',
    inner('GET', '/allowed/x'),
    [exact('GET', '/allowed/x', { host: TLS_HOST })],
  ),
  tunnel(
    'sni-other-host',
    'an SNI naming another host makes every request 421',
    inner('GET', '/allowed/x'),
    [MISDIRECTED],
    'sentinel.test',
  ),
  tunnel(
    'sni-metadata-name',
    'an SNI naming another host makes every request 421',
    inner('GET', '/allowed/x'),
    [MISDIRECTED],
    'metadata.google.internal',
  ),
  tunnel(
    'sni-upper-case',
    'SNI is compared without case',
    inner('GET', '/allowed/x'),
    [exact('GET', '/allowed/x', { host: TLS_HOST })],
    'SECURE.TEST',
  ),
  tunnel(
    'no-sni',
    'without SNI the CONNECT target stands',
    inner('GET', '/allowed/x'),
    [exact('GET', '/allowed/x', { host: TLS_HOST })],
    null,
  ),
  tunnel(
    'sni-mismatch-pipelined',
    'an SNI mismatch refuses every pipelined request',
    `${inner('GET', '/allowed/a')}${inner('GET', '/allowed/b')}`,
    [MISDIRECTED],
    'sentinel.test',
  ),
  tunnel('host-other', SAME_HOST, inner('GET', '/allowed/x', '', 'sentinel.test:{T}'), [
    MISDIRECTED,
  ]),
  tunnel('host-no-port', SAME_HOST, inner('GET', '/allowed/x', '', 'secure.test'), [MISDIRECTED]),
  tunnel('host-other-port', SAME_HOST, inner('GET', '/allowed/x', '', 'secure.test:{P}'), [
    MISDIRECTED,
  ]),
  tunnel('host-userinfo', SAME_HOST, inner('GET', '/allowed/x', '', 'user@{secure}'), [
    MISDIRECTED,
  ]),
  tunnel(
    'host-trailing-dot',
    'Host is compared canonically inside a tunnel too',
    inner('GET', '/allowed/x', '', 'SECURE.test.:{T}'),
    [exact('GET', '/allowed/x', { host: TLS_HOST })],
  ),
  tunnel('host-duplicate', SAME_HOST, inner('GET', '/allowed/x', 'Host: sentinel.test\r\n'), [
    MISDIRECTED,
  ]),
  tunnel(
    'host-missing',
    'a request without Host in a tunnel goes to the CONNECT target',
    'GET /allowed/x HTTP/1.1\r\n\r\n',
    [exact('GET', '/allowed/x', { host: TLS_HOST })],
  ),
  tunnel(
    'absolute-form-other',
    'an absolute-form request inside a tunnel is refused',
    inner('GET', 'http://sentinel.test/allowed/x'),
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'absolute-form-same',
    'an absolute-form request inside a tunnel is refused',
    inner('GET', 'https://{secure}/allowed/x'),
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel('asterisk', 'an asterisk-form request inside a tunnel is refused', inner('OPTIONS', '*'), [
    refused('TOLLGATE_MALFORMED_REQUEST'),
  ]),
  tunnel('path-denied', 'paths are decided inside a tunnel', inner('GET', '/sentinel'), [NO_MATCH]),
  tunnel(
    'path-dots',
    'dot segments are resolved inside a tunnel',
    inner('GET', '/allowed/../sentinel'),
    [NO_MATCH],
  ),
  tunnel(
    'path-encoded-slash',
    'encoded slashes are refused inside a tunnel',
    inner('GET', '/allowed/..%2fsentinel'),
    [refused('TOLLGATE_BAD_PATH')],
  ),
  tunnel(
    'path-overlong',
    'overlong UTF-8 is refused inside a tunnel',
    inner('GET', '/allowed/%c0%ae%c0%ae/sentinel'),
    [refused('TOLLGATE_BAD_PATH')],
  ),
  tunnel('method-denied', 'methods are decided inside a tunnel', inner('DELETE', '/allowed/x'), [
    NO_MATCH,
  ]),
  tunnel(
    'method-override',
    'method overrides are decided inside a tunnel',
    inner('POST', '/allowed/x', 'X-HTTP-Method-Override: DELETE\r\nContent-Length: 0\r\n'),
    [NO_MATCH],
  ),
  tunnel(
    'pipelined',
    'pipelined requests in a tunnel are each decided',
    `${inner('GET', '/sentinel')}${inner('GET', '/allowed/y')}`,
    [NO_MATCH, exact('GET', '/allowed/y', { host: TLS_HOST })],
  ),
  tunnel(
    'cl-te',
    'strict framing inside a tunnel too',
    inner('POST', '/allowed/x', 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n') +
      '0\r\n\r\n',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'obs-fold',
    'strict framing inside a tunnel too',
    inner('GET', '/allowed/x', 'X-A: b\r\n c\r\n'),
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'te-http10',
    'Transfer-Encoding on HTTP/1.0 is refused inside a tunnel too',
    'POST /allowed/x HTTP/1.0\r\nHost: {secure}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'expect-unknown',
    'an expectation other than 100-continue is refused inside a tunnel',
    inner('GET', '/allowed/x', 'Expect: x-other\r\n'),
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'h2-preface',
    'an HTTP/2 preface inside the tunnel is refused: h2 is not offered',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'h2c-upgrade',
    'an h2c upgrade inside the tunnel is refused',
    inner(
      'GET',
      '/allowed/x',
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n',
    ),
    [refused('TOLLGATE_UPGRADE_DENIED')],
  ),
  tunnel(
    'websocket-upgrade',
    'a WebSocket upgrade without a rule that allows it is refused',
    inner(
      'GET',
      '/allowed/ws',
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    ),
    [refused('TOLLGATE_UPGRADE_DENIED')],
  ),
  tunnel(
    'proxy-auth-inside',
    'a Proxy-Authorization inside the tunnel is not forwarded',
    inner('GET', '/allowed/x', 'Proxy-Authorization: {auth}\r\n'),
    [exact('GET', '/allowed/x', { host: TLS_HOST, headers: { 'proxy-authorization': null } })],
  ),
  tunnel(
    'connect-inside',
    'a CONNECT inside a tunnel is refused with a JSON error',
    'CONNECT sentinel.test:443 HTTP/1.1\r\nHost: sentinel.test:443\r\n\r\n',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  tunnel(
    'connect-inside-same-host',
    'a CONNECT inside a tunnel is refused with a JSON error',
    'CONNECT {secure} HTTP/1.1\r\nHost: {secure}\r\n\r\n',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
]
