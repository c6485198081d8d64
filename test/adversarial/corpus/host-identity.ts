import { echoGet, exact, forward, refused, type CorpusCase } from './case.js'

/**
 * Host identity: policy is matched on one canonical host, and the agent cannot make the relay
 * and the upstream read two different hosts out of one request. The narrow agent may reach
 * `echo.test:{P}` only; every spelling below either is that host exactly or is refused.
 */
const C = 'host-identity' as const
const AUTH = 'Proxy-Authorization: {auth}\r\n'

/** A GET whose absolute-form authority is `authority` and whose `Host` header says the same. */
function via(
  id: string,
  rule: string,
  authority: string,
  expect: CorpusCase['expect'],
): CorpusCase {
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    send: forward('GET', `http://${authority}/allowed/x`),
    expect,
  }
}

/** A GET to the allowed URL with its `Host` header replaced by `host` (null: none at all). */
function withHost(id: string, rule: string, host: string | null, expect: CorpusCase['expect']) {
  const hostLine = host === null ? '' : `Host: ${host}\r\n`
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    send: `GET http://{target}/allowed/x HTTP/1.1\r\n${hostLine}${AUTH}\r\n`,
    expect,
  } satisfies CorpusCase
}

const SAME = 'a spelling of the allowed host reaches exactly that host, as its canonical name'
const USERINFO = 'userinfo in the authority is refused: parsers disagree on which host it names'
const PORTS = 'a port that is not exactly one decimal number in range is refused'
const DISAGREE = 'the absolute-form authority and Host must name the same place'

export const HOST_IDENTITY: CorpusCase[] = [
  {
    id: `${C}/baseline`,
    category: C,
    rule: 'the allowed request passes unchanged',
    send: echoGet('/allowed/x'),
    expect: [exact('GET', '/allowed/x')],
  },
  via('upper-case', SAME, 'ECHO.TEST:{P}', [exact('GET', '/allowed/x')]),
  via('mixed-case', SAME, 'EcHo.TeSt:{P}', [exact('GET', '/allowed/x')]),
  via('trailing-dot', SAME, 'echo.test.:{P}', [exact('GET', '/allowed/x')]),
  via('upper-trailing-dot', SAME, 'ECHO.TEST.:{P}', [exact('GET', '/allowed/x')]),
  {
    id: `${C}/upper-scheme`,
    category: C,
    rule: SAME,
    send: forward('GET', 'HTTP://ECHO.TEST:{P}/allowed/x'),
    expect: [exact('GET', '/allowed/x')],
  },
  {
    id: `${C}/host-header-trailing-dot`,
    category: C,
    rule: 'Host is compared canonically: a trailing dot names the same host',
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: echo.test.:{P}\r\n${AUTH}\r\n`,
    expect: [exact('GET', '/allowed/x')],
  },
  withHost('no-host-header', 'HTTP/1.1 without Host: the relay sets Host from the target', null, [
    exact('GET', '/allowed/x'),
  ]),
  via('two-trailing-dots', 'an empty label is refused', 'echo.test..:{P}', [
    refused('TOLLGATE_BAD_HOST'),
  ]),
  via('leading-dot', 'an empty label is refused', '.echo.test:{P}', [refused('TOLLGATE_BAD_HOST')]),
  via('empty-inner-label', 'an empty label is refused', 'echo..test:{P}', [
    refused('TOLLGATE_BAD_HOST'),
  ]),
  via('only-dot', 'a host of one dot is refused', '.:{P}', [refused('TOLLGATE_BAD_HOST')]),
  via('empty-host', 'an empty host is refused', ':{P}', [refused('TOLLGATE_BAD_HOST')]),
  {
    id: `${C}/no-authority`,
    category: C,
    rule: 'an absolute-form target with no authority is refused',
    send: forward('GET', 'http:///allowed/x'),
    expect: [refused('TOLLGATE_BAD_HOST')],
  },
  via('label-too-long', 'a label over 63 characters is refused', `${'a'.repeat(64)}.test:{P}`, [
    refused('TOLLGATE_BAD_HOST'),
  ]),
  via(
    'name-too-long',
    'a name over 253 characters is refused',
    `${'abcdefgh.'.repeat(30)}test:{P}`,
    [refused('TOLLGATE_BAD_HOST')],
  ),
  via('underscore-lookalike', 'a look-alike name is another host', 'echo_test:{P}', [
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ]),
  via(
    'suffix-lookalike',
    'the allowed name as a prefix is another host',
    'echo.test.sentinel.test:{P}',
    [refused('TOLLGATE_POLICY_NO_MATCH')],
  ),
  via('prefix-lookalike', 'the allowed name as a suffix is another host', 'xecho.test:{P}', [
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ]),
  via(
    'punycode-other',
    'a punycode name is the name it encodes, not the allowed one',
    'xn--cho-9ja.test:{P}',
    [refused('TOLLGATE_POLICY_NO_MATCH')],
  ),
  via(
    'idn-fullwidth',
    'non-ASCII in the request line is refused before any IDN mapping',
    'ｅｃｈｏ.test:{P}',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  via(
    'idn-ideographic-dot',
    'an ideographic full stop is not a label separator here',
    'echo。test:{P}',
    [refused('TOLLGATE_MALFORMED_REQUEST')],
  ),
  via('idn-cyrillic', 'a Cyrillic homoglyph is refused in the request line', 'есho.test:{P}', [
    refused('TOLLGATE_MALFORMED_REQUEST'),
  ]),
  via('percent-encoded-host', 'percent-encoding in the authority is refused', '%65cho.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via('encoded-dot-host', 'percent-encoding in the authority is refused', 'echo%2etest:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via('nul-in-host', 'an encoded NUL cannot cut the host short', 'sentinel.test%00.echo.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),

  // Userinfo: `a@b` is read as host b by URL parsers and as host a by naive splitters.
  via('userinfo-user', USERINFO, 'user@echo.test:{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('userinfo-user-pass', USERINFO, 'user:pass@echo.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via('userinfo-allowed-before', USERINFO, 'echo.test:{P}@sentinel.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via('userinfo-allowed-after', USERINFO, 'sentinel.test:{P}@echo.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via('userinfo-empty', USERINFO, '@echo.test:{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('userinfo-two-ats', USERINFO, 'a@sentinel.test@echo.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  via(
    'userinfo-token',
    'a token in userinfo is refused, never echoed',
    'bot:{token}@echo.test:{P}',
    [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  ),
  via('userinfo-backslash', USERINFO, 'echo.test:{P}\\@sentinel.test:{P}', [
    refused('TOLLGATE_MALFORMED_REQUEST'),
  ]),
  via('userinfo-fragment', USERINFO, 'sentinel.test:{P}#@echo.test:{P}', [
    refused('TOLLGATE_MALFORMED_REQUEST'),
  ]),
  via('userinfo-encoded-at', USERINFO, 'echo.test:{P}%40sentinel.test', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  {
    id: `${C}/userinfo-host-header`,
    category: C,
    rule: USERINFO,
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: user@{target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  },
  {
    id: `${C}/fragment-in-authority`,
    category: C,
    rule: 'a fragment mark in the authority is refused',
    send: forward('GET', 'http://{target}#/allowed/x'),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/backslash-authority`,
    category: C,
    rule: 'a backslash in the authority is refused',
    send: forward('GET', 'http://sentinel.test\\.echo.test:{P}/allowed/x'),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },

  // Ports.
  via('port-empty', PORTS, 'echo.test:', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-zero', PORTS, 'echo.test:0', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-65536', PORTS, 'echo.test:65536', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-huge', PORTS, 'echo.test:4294967296', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-wraps-to-allowed', PORTS, 'echo.test:6{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-plus', PORTS, 'echo.test:+{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-minus', PORTS, 'echo.test:-1', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-hex', PORTS, 'echo.test:0x50', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-leading-zero-long', PORTS, 'echo.test:0{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-twice', PORTS, 'echo.test:{P}:{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-trailing-dot', PORTS, 'echo.test:{P}.', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-letters', PORTS, 'echo.test:{P}a', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-encoded', PORTS, 'echo.test:%34{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  via('port-default-not-allowed', 'the default port is not the allowed one', 'echo.test', [
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ]),
  via('port-80-explicit', 'an explicit port 80 is still not the allowed one', 'echo.test:80', [
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ]),
  via('port-other', 'a port no rule names is refused', 'echo.test:{S}', [
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ]),

  // Absolute-form target against the Host header.
  withHost('host-other', DISAGREE, 'sentinel.test:{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  withHost('host-missing-port', DISAGREE, 'echo.test', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  withHost('host-other-port', DISAGREE, 'echo.test:{S}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  withHost('host-ip', DISAGREE, '127.0.0.1:{P}', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  withHost('host-empty', 'an empty Host is refused', '', [refused('TOLLGATE_BAD_HOST')]),
  withHost('host-with-path', DISAGREE, '{target}/allowed', [refused('TOLLGATE_AMBIGUOUS_TARGET')]),
  withHost('host-comma-list', DISAGREE, '{target}, sentinel.test', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  withHost('host-latin1', 'a Latin-1 Host byte spells another (IDN) host', 'écho.test:{P}', [
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ]),
  withHost('host-utf8', 'UTF-8 Host bytes are not a host name', 'ｅｃｈｏ.test:{P}', [
    refused('TOLLGATE_BAD_HOST'),
  ]),
  {
    id: `${C}/host-duplicate-same`,
    category: C,
    rule: 'a second Host is refused even when it repeats the first',
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  },
  {
    id: `${C}/host-duplicate-other`,
    category: C,
    rule: 'a second Host naming another place is refused',
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nHost: sentinel.test:{P}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  },
  {
    id: `${C}/host-duplicate-case`,
    category: C,
    rule: 'header names are compared without case: host and HOST are two Host headers',
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nhost: {target}\r\nHOST: sentinel.test:{P}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  },
  {
    id: `${C}/host-duplicate-after-many`,
    category: C,
    rule: 'a second Host after 1,500 other headers is still seen (no header count truncation)',
    send:
      `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\n${AUTH}` +
      'X-Filler: 1\r\n'.repeat(1500) +
      'Host: sentinel.test:{P}\r\n\r\n',
    expect: [refused('TOLLGATE_AMBIGUOUS_TARGET')],
  },
  {
    id: `${C}/x-forwarded-host`,
    category: C,
    rule: 'X-Forwarded-Host does not change where the request goes',
    send: echoGet('/allowed/x', 'X-Forwarded-Host: sentinel.test\r\nX-Host: sentinel.test\r\n'),
    expect: [exact('GET', '/allowed/x')],
  },

  // Request targets that are not absolute-form http:// URLs.
  {
    id: `${C}/origin-form-to-proxy`,
    category: C,
    rule: 'the forward proxy never routes by Host alone',
    send: `GET /allowed/x HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/scheme-relative`,
    category: C,
    rule: 'a scheme-relative target (//host/path) is refused',
    send: `GET //sentinel.test:{P}/allowed/x HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/slash-backslash`,
    category: C,
    rule: 'a /\\host target is refused',
    send: `GET /\\sentinel.test/allowed/x HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/single-slash-scheme`,
    category: C,
    rule: 'http:/host is not an absolute-form target',
    send: forward('GET', 'http:/echo.test:{P}/allowed/x'),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/backslash-scheme`,
    category: C,
    rule: 'http:\\\\host is not an absolute-form target',
    send: forward('GET', 'http:\\\\echo.test:{P}/allowed/x'),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/https-absolute`,
    category: C,
    rule: 'https is relayed through CONNECT only',
    send: forward('GET', 'https://{target}/allowed/x'),
    expect: [refused('TOLLGATE_UNSUPPORTED_SCHEME')],
  },
  ...['ftp', 'file', 'gopher', 'ws', 'httpx', 'jar:http'].map((scheme): CorpusCase => ({
    id: `${C}/scheme-${scheme.replace(':', '-')}`,
    category: C,
    rule: 'only http:// targets are relayed by the forward proxy',
    send: forward('GET', `${scheme}://{target}/allowed/x`),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  })),
  {
    id: `${C}/asterisk`,
    category: C,
    rule: 'an asterisk-form target is refused',
    send: `OPTIONS * HTTP/1.1\r\nHost: {target}\r\n${AUTH}\r\n`,
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/no-path`,
    category: C,
    rule: 'an authority without a path asks for /, which is not allowed',
    send: forward('GET', 'http://{target}'),
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
  {
    id: `${C}/query-without-path`,
    category: C,
    rule: 'an authority followed by ? asks for /, which is not allowed',
    send: forward('GET', 'http://{target}?/allowed/x'),
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
]
