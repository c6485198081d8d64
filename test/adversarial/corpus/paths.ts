import { echoGet, exact, refused, type CorpusCase, type Outcome } from './case.js'

/**
 * Paths. The narrow agent may GET and POST `/allowed/**` on the echo, except
 * `/allowed/admin/**`, which a deny rule forbids. Each spelling below is either normalised to
 * the path the echo then receives, exactly, or refused: never decided as one path and
 * forwarded as another.
 */
const C = 'paths' as const

const BAD = refused('TOLLGATE_BAD_PATH')
const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const DENIED = refused('TOLLGATE_POLICY_DENIED')

function path(id: string, rule: string, target: string, expect: Outcome): CorpusCase {
  return { id: `${C}/${id}`, category: C, rule, send: echoGet(target), expect: [expect] }
}

const DOTS = 'dot segments are resolved before the decision, and the resolved path is forwarded'
const ENCODED_SEPARATOR = 'an encoded separator or control character is refused'
const DOUBLE = 'double encoding is refused'
const PARAMS = 'path parameters (;) are refused: servers disagree on what they cut'
const SLASHES = 'repeated slashes are refused'
const OVERLONG =
  'percent-encoded bytes that are not valid UTF-8 (overlong forms of . and /) are refused'

export const PATHS: CorpusCase[] = [
  path('dot-segment-inside', DOTS, '/allowed/x/../y', exact('GET', '/allowed/y')),
  path('dot-segment-single', DOTS, '/allowed/./x', exact('GET', '/allowed/x')),
  path('dot-segment-leading', DOTS, '/./allowed/x', exact('GET', '/allowed/x')),
  path('dot-segment-trailing', DOTS, '/allowed/x/..', exact('GET', '/allowed/')),
  path('dot-segment-escape', DOTS, '/allowed/../sentinel', NO_MATCH),
  path('dot-segment-into-denied', DOTS, '/allowed/x/../admin/keys', DENIED),
  path('dot-segment-climb-root', 'a path that climbs above / is refused', '/allowed/../../x', BAD),
  path(
    'dot-segment-climb-far',
    'a path that climbs above / is refused',
    '/../../../etc/passwd',
    BAD,
  ),
  path(
    'three-dots',
    'three dots are an ordinary segment',
    '/allowed/.../x',
    exact('GET', '/allowed/.../x'),
  ),
  path('encoded-dots', DOTS, '/allowed/%2e%2e/sentinel', NO_MATCH),
  path('encoded-dots-upper', DOTS, '/allowed/%2E%2E/sentinel', NO_MATCH),
  path('encoded-dots-mixed', DOTS, '/allowed/.%2e/sentinel', NO_MATCH),
  path('encoded-dots-into-denied', DOTS, '/allowed/x/%2e%2e/admin/keys', DENIED),
  path('encoded-dots-inside', DOTS, '/allowed/x/%2e%2e/y', exact('GET', '/allowed/y')),
  path('encoded-single-dot', DOTS, '/allowed/%2e/x', exact('GET', '/allowed/x')),
  path('encoded-dots-climb', 'a path that climbs above / is refused', '/%2e%2e/%2e%2e/x', BAD),
  path(
    'encoded-unreserved',
    'encoded unreserved characters are decoded',
    '/%61llowed/x',
    exact('GET', '/allowed/x'),
  ),
  path(
    'encoded-unreserved-denied',
    'encoded letters cannot hide a denied path',
    '/allowed/%61dmin/keys',
    DENIED,
  ),
  path(
    'encoded-reserved-kept',
    'encoded reserved characters are forwarded as sent, upper-cased',
    '/allowed/a%3ab',
    exact('GET', '/allowed/a%3Ab'),
  ),
  path(
    'encoded-space-kept',
    'an encoded space is forwarded as sent',
    '/allowed/a%20b',
    exact('GET', '/allowed/a%20b'),
  ),
  path(
    'encoded-question-mark',
    'an encoded ? stays in the path',
    '/allowed/x%3f/../../sentinel',
    NO_MATCH,
  ),
  path(
    'encoded-hash-kept',
    'an encoded # stays in the path',
    '/allowed/x%23y',
    exact('GET', '/allowed/x%23y'),
  ),
  path('encoded-slash', ENCODED_SEPARATOR, '/allowed/..%2fsentinel', BAD),
  path('encoded-slash-upper', ENCODED_SEPARATOR, '/allowed/..%2Fsentinel', BAD),
  path('encoded-slash-into-denied', ENCODED_SEPARATOR, '/allowed/admin%2fkeys', BAD),
  path('encoded-backslash', ENCODED_SEPARATOR, '/allowed/..%5csentinel', BAD),
  path('encoded-backslash-upper', ENCODED_SEPARATOR, '/allowed/..%5Csentinel', BAD),
  path('encoded-nul', ENCODED_SEPARATOR, '/allowed/x%00.json', BAD),
  path('encoded-crlf', ENCODED_SEPARATOR, '/allowed/x%0d%0aHost:%20sentinel.test', BAD),
  path('encoded-tab', ENCODED_SEPARATOR, '/allowed/x%09', BAD),
  path('encoded-del', ENCODED_SEPARATOR, '/allowed/x%7f', BAD),
  path('double-encoded-dots', DOUBLE, '/allowed/%252e%252e/sentinel', BAD),
  path('double-encoded-slash', DOUBLE, '/allowed/..%252fsentinel', BAD),
  path('double-encoded-digits', DOUBLE, '/allowed/%25%32%65%25%32%65/sentinel', BAD),
  path('encoded-percent', DOUBLE, '/allowed/%25', BAD),
  path(
    'iis-unicode-escape',
    'IIS %u escapes are refused as broken percent-encoding',
    '/allowed/%u002e%u002e/sentinel',
    BAD,
  ),
  path('broken-escape-end', 'a truncated escape is refused', '/allowed/x%', BAD),
  path('broken-escape-short', 'a truncated escape is refused', '/allowed/x%4', BAD),
  path('broken-escape-letters', 'a non-hex escape is refused', '/allowed/x%zz', BAD),
  path('overlong-dot', OVERLONG, '/allowed/%c0%ae%c0%ae/sentinel', BAD),
  path('overlong-dot-upper', OVERLONG, '/allowed/%C0%AE%C0%AE/admin/keys', BAD),
  path('overlong-slash', OVERLONG, '/allowed/..%c0%afsentinel', BAD),
  path('overlong-backslash', OVERLONG, '/allowed/..%c1%9csentinel', BAD),
  path('overlong-three-byte', OVERLONG, '/allowed/%e0%80%ae%e0%80%ae/sentinel', BAD),
  path('overlong-four-byte', OVERLONG, '/allowed/%f0%80%80%ae', BAD),
  path('lone-continuation-byte', OVERLONG, '/allowed/%80', BAD),
  path('invalid-byte-ff', OVERLONG, '/allowed/%ff', BAD),
  path('utf16-surrogate', OVERLONG, '/allowed/%ed%a0%80', BAD),
  path(
    'valid-utf8-kept',
    'valid UTF-8 escapes are forwarded as sent',
    '/allowed/caf%c3%a9',
    exact('GET', '/allowed/caf%C3%A9'),
  ),
  path('semicolon-dots', PARAMS, '/allowed/..;/sentinel', BAD),
  path('semicolon-session', PARAMS, '/allowed;jsessionid=1/x', BAD),
  path('semicolon-segment', PARAMS, '/;/allowed/x', BAD),
  path(
    'semicolon-encoded-kept',
    'an encoded ; is data, not a parameter',
    '/allowed/a%3bb',
    exact('GET', '/allowed/a%3Bb'),
  ),
  path('double-slash-leading', SLASHES, '//allowed/x', BAD),
  path('double-slash-inside', SLASHES, '/allowed//x', BAD),
  path('double-slash-host-like', SLASHES, '/allowed/..//sentinel.test/x', BAD),
  path('dot-then-slash', SLASHES, '/allowed/.//x', BAD),
  path(
    'backslash',
    'a backslash is refused: some servers read it as /',
    '/allowed\\..\\sentinel',
    BAD,
  ),
  path('backslash-only', 'a backslash is refused: some servers read it as /', '/allowed/x\\y', BAD),
  path('fragment', 'a fragment mark is refused', '/allowed/x#/../../sentinel', BAD),
  path('fragment-only', 'a fragment mark is refused', '/allowed/x#', BAD),
  path(
    'case-differs',
    'paths are case-sensitive: /ALLOWED is not /allowed',
    '/ALLOWED/x',
    NO_MATCH,
  ),
  path(
    'query-dots-kept',
    'the query is forwarded byte for byte and never dot-resolved',
    '/allowed/x?../../sentinel',
    exact('GET', '/allowed/x?../../sentinel'),
  ),
  path(
    'query-hides-path',
    'a path in the query does not change the decided path',
    '/sentinel?/allowed/x',
    NO_MATCH,
  ),
  path(
    'query-encoded-kept',
    'the query keeps its escapes',
    '/allowed/x?a=%2f%00%zz',
    exact('GET', '/allowed/x?a=%2f%00%zz'),
  ),
  path(
    'query-double-mark',
    'a second ? belongs to the query',
    '/allowed/x??/admin',
    exact('GET', '/allowed/x??/admin'),
  ),
  path('query-backslash', 'a backslash is refused in the query too', '/allowed/x?a=\\', BAD),
  path(
    'long-path',
    'a 10 KB path is decided and forwarded whole',
    `/allowed/${'a'.repeat(10_000)}`,
    exact('GET', `/allowed/${'a'.repeat(10_000)}`),
  ),
  {
    id: `${C}/tab-in-path`,
    category: C,
    rule: 'a raw tab in the request target is refused',
    send: echoGet('/allowed/x\ty'),
    expect: [refused()],
  },
  {
    id: `${C}/raw-nul`,
    category: C,
    rule: 'a raw NUL in the request target is refused',
    send: echoGet('/allowed/x\0/../../sentinel'),
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
  {
    id: `${C}/raw-non-ascii`,
    category: C,
    rule: 'raw non-ASCII in the request target is refused',
    send: echoGet('/allowed/é'),
    expect: [refused()],
  },
  {
    id: `${C}/override-header`,
    category: C,
    rule: 'a header that some upstreams read as the path is decided like the path',
    send: echoGet('/allowed/x', 'X-Original-URL: /allowed/admin/keys\r\n'),
    expect: [DENIED],
  },
  {
    id: `${C}/override-header-allowed`,
    category: C,
    rule: 'an override that names an allowed path is forwarded as sent',
    send: echoGet('/allowed/x', 'X-Rewrite-URL: /allowed/y\r\n'),
    expect: [exact('GET', '/allowed/x', { headers: { 'x-rewrite-url': '/allowed/y' } })],
  },
]
