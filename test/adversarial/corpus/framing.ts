import { echoGet, echoPost, exact, refused, type CorpusCase, type Outcome } from './case.js'

/**
 * Framing. Request smuggling lives where two parsers disagree on where a request ends. The
 * relay must read every request strictly, refuse whatever is ambiguous with a JSON error, and
 * never let bytes it refused (or a body it discarded) be read as a request of their own.
 */
const C = 'framing' as const

const MALFORMED = refused('TOLLGATE_MALFORMED_REQUEST')
const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const LINE =
  'POST http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n'
const TE = 'Transfer-Encoding'
const AMBIGUOUS_TE = 'a Transfer-Encoding that is not exactly chunked is refused'
// Node's parser hides repeated spaces in the request line from the relay.
const SPACES_GAP = '#3: Node folds repeated spaces in the request line; the relay cannot see them'

/** A POST to the allowed path with these framing headers and this body. */
function post(id: string, rule: string, headers: string, body: string, expect: Outcome[]) {
  return { id: `${C}/${id}`, category: C, rule, send: `${LINE}${headers}\r\n${body}`, expect }
}

/** A chunked POST whose body is `chunks`; `ok` is the body the echo must then receive. */
function chunked(id: string, rule: string, chunks: string, ok: string | null): CorpusCase {
  const expect = ok === null ? [MALFORMED] : [exact('POST', '/allowed/x', { body: ok })]
  return post(id, rule, `${TE}: chunked\r\n`, chunks, expect)
}

/** A GET to the allowed path with one extra header line, which the parser must refuse. */
function header(id: string, rule: string, line: string): CorpusCase {
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    send: echoGet('/allowed/x', `${line}\r\n`),
    expect: [MALFORMED],
  }
}

const SMUGGLED =
  'GET http://{target}/allowed/smuggled HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n'

export const FRAMING: CorpusCase[] = [
  // Content-Length and Transfer-Encoding.
  post(
    'cl-te',
    'Content-Length with Transfer-Encoding is refused',
    `Content-Length: 4\r\n${TE}: chunked\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post(
    'te-cl',
    'Transfer-Encoding with Content-Length is refused',
    `${TE}: chunked\r\nContent-Length: 4\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post(
    'te-cl-zero',
    'Transfer-Encoding with Content-Length: 0 is refused',
    `${TE}: chunked\r\nContent-Length: 0\r\n`,
    `0\r\n\r\n${SMUGGLED}`,
    [MALFORMED],
  ),
  post(
    'cl-twice-differ',
    'two different Content-Length values are refused',
    'Content-Length: 3\r\nContent-Length: 4\r\n',
    'abcd',
    [MALFORMED],
  ),
  post(
    'cl-twice-same',
    'a repeated Content-Length is refused',
    'Content-Length: 3\r\nContent-Length: 3\r\n',
    'abc',
    [MALFORMED],
  ),
  post('cl-list', 'a Content-Length list is refused', 'Content-Length: 3, 3\r\n', 'abc', [
    MALFORMED,
  ]),
  post('cl-plus', 'a signed Content-Length is refused', 'Content-Length: +3\r\n', 'abc', [
    MALFORMED,
  ]),
  post('cl-negative', 'a negative Content-Length is refused', 'Content-Length: -1\r\n', 'abc', [
    MALFORMED,
  ]),
  post('cl-hex', 'a hex Content-Length is refused', 'Content-Length: 0x3\r\n', 'abc', [MALFORMED]),
  post(
    'cl-space-inside',
    'a Content-Length with a space inside is refused',
    'Content-Length: 1 2\r\n',
    'abc',
    [MALFORMED],
  ),
  post('cl-letters', 'a Content-Length with letters is refused', 'Content-Length: 3a\r\n', 'abc', [
    MALFORMED,
  ]),
  post(
    'cl-huge',
    'a Content-Length past 2^64 is refused',
    'Content-Length: 99999999999999999999999\r\n',
    'abc',
    [MALFORMED],
  ),
  post(
    'cl-leading-zeros',
    'leading zeros are valid digits of Content-Length',
    'Content-Length: 003\r\n',
    'abc',
    [exact('POST', '/allowed/x', { body: 'abc' })],
  ),
  post(
    'cl-space-before-colon',
    'whitespace before the colon is refused',
    'Content-Length : 3\r\n',
    'abc',
    [MALFORMED],
  ),
  post(
    'te-space-before-colon',
    'whitespace before the colon is refused',
    `${TE} : chunked\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post(
    'te-tab-before-colon',
    'whitespace before the colon is refused',
    `${TE}\t: chunked\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post('te-xchunked', AMBIGUOUS_TE, `${TE}: xchunked\r\n`, '0\r\n\r\n', [MALFORMED]),
  post('te-chunked-suffix', AMBIGUOUS_TE, `${TE}: chunkedx\r\n`, '0\r\n\r\n', [MALFORMED]),
  post('te-quoted', AMBIGUOUS_TE, `${TE}: "chunked"\r\n`, '0\r\n\r\n', [MALFORMED]),
  post('te-chunked-identity', AMBIGUOUS_TE, `${TE}: chunked, identity\r\n`, '0\r\n\r\n', [
    MALFORMED,
  ]),
  post('te-chunked-twice-list', AMBIGUOUS_TE, `${TE}: chunked, chunked\r\n`, '0\r\n\r\n', [
    MALFORMED,
  ]),
  post(
    'te-two-headers',
    'a repeated Transfer-Encoding is refused',
    `${TE}: chunked\r\n${TE}: chunked\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post(
    'te-two-headers-identity',
    'a repeated Transfer-Encoding is refused',
    `${TE}: chunked\r\n${TE}: identity\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post('te-vertical-tab', AMBIGUOUS_TE, `${TE}: \x0bchunked\r\n`, '0\r\n\r\n', [MALFORMED]),
  post('te-form-feed', AMBIGUOUS_TE, `${TE}: chunked\x0c\r\n`, '0\r\n\r\n', [MALFORMED]),
  post(
    'te-leading-space-line',
    'a header line starting with whitespace (obs-fold) is refused',
    ` ${TE}: chunked\r\n`,
    '0\r\n\r\n',
    [MALFORMED],
  ),
  post(
    'te-underscore-name',
    'Transfer_Encoding is just another header: no body, then garbage',
    'Transfer_Encoding: chunked\r\n',
    '',
    [exact('POST', '/allowed/x', { body: '' })],
  ),
  post(
    'te-identity-chunked',
    AMBIGUOUS_TE,
    `${TE}: identity, chunked\r\n`,
    '3\r\nabc\r\n0\r\n\r\n',
    [MALFORMED],
  ),
  post('te-gzip-chunked', AMBIGUOUS_TE, `${TE}: gzip, chunked\r\n`, '3\r\nabc\r\n0\r\n\r\n', [
    MALFORMED,
  ]),
  {
    id: `${C}/te-http10`,
    category: C,
    rule: 'Transfer-Encoding on HTTP/1.0 is refused (RFC 9112: the framing is faulty)',
    send: `POST http://{target}/allowed/x HTTP/1.0\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n${TE}: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    expect: [MALFORMED],
  },
  post(
    'te-trailing-space',
    'chunked followed by whitespace is chunked',
    `${TE}: chunked \r\n`,
    '3\r\nabc\r\n0\r\n\r\n',
    [exact('POST', '/allowed/x', { body: 'abc' })],
  ),
  post(
    'te-upper-case',
    'codings are case-insensitive: Chunked is chunked',
    `${TE}: Chunked\r\n`,
    '3\r\nabc\r\n0\r\n\r\n',
    [exact('POST', '/allowed/x', { body: 'abc' })],
  ),
  post(
    'te-tab-value',
    'a tab is whitespace before the value',
    `${TE}:\tchunked\r\n`,
    '3\r\nabc\r\n0\r\n\r\n',
    [exact('POST', '/allowed/x', { body: 'abc' })],
  ),

  // Chunked bodies.
  chunked(
    'chunk-plain',
    'a well-formed chunked body arrives whole',
    '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    'abcde',
  ),
  chunked(
    'chunk-leading-zeros',
    'leading zeros in a chunk size are valid',
    '0003\r\nabc\r\n0\r\n\r\n',
    'abc',
  ),
  chunked(
    'chunk-upper-hex',
    'upper-case hex chunk sizes are valid',
    'A\r\n0123456789\r\n0\r\n\r\n',
    '0123456789',
  ),
  chunked(
    'chunk-extension',
    'chunk extensions are valid and dropped',
    '3;name=value\r\nabc\r\n0\r\n\r\n',
    'abc',
  ),
  chunked(
    'chunk-extension-quoted',
    'quoted chunk extensions are valid',
    '3;n="v;x"\r\nabc\r\n0\r\n\r\n',
    'abc',
  ),
  chunked(
    'chunk-trailer',
    'trailers are accepted and not taken as headers',
    '3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n',
    'abc',
  ),
  chunked(
    'chunk-trailer-host',
    'a Host in the trailer changes nothing',
    '3\r\nabc\r\n0\r\nHost: sentinel.test\r\n\r\n',
    'abc',
  ),
  chunked(
    'chunk-size-letters',
    'a chunk size that is not hex is refused',
    'zz\r\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked('chunk-size-0x', 'a 0x chunk size is refused', '0x3\r\nabc\r\n0\r\n\r\n', null),
  chunked(
    'chunk-size-negative',
    'a negative chunk size is refused',
    '-3\r\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-size-overflow',
    'a chunk size past 2^64 is refused',
    'fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-size-space',
    'a space inside a chunk size is refused',
    '3 3\r\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked('chunk-size-empty', 'an empty chunk size is refused', '\r\nabc\r\n0\r\n\r\n', null),
  chunked(
    'chunk-extension-bare-lf',
    'a bare LF ending a chunk extension is refused',
    '3;x\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-size-bare-lf',
    'a bare LF ending a chunk size is refused',
    '3\nabc\r\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-data-too-long',
    'chunk data longer than its size is refused',
    '3\r\nabcdef\r\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-data-bare-lf',
    'chunk data ended by a bare LF is refused',
    '3\r\nabc\n0\r\n\r\n',
    null,
  ),
  chunked(
    'chunk-last-bare-lf',
    'a last chunk ended by bare LFs is refused',
    '3\r\nabc\r\n0\n\n',
    null,
  ),
  chunked(
    'chunk-extension-nul',
    'a NUL in a chunk extension is refused',
    '3;a\0b\r\nabc\r\n0\r\n\r\n',
    null,
  ),

  // Request line and header syntax.
  header(
    'obs-fold',
    'obs-fold (a header continued on the next line) is refused',
    'X-Folded: one\r\n two',
  ),
  header('obs-fold-tab', 'obs-fold with a tab is refused', 'X-Folded: one\r\n\ttwo'),
  header('nul-value', 'a NUL in a header value is refused', 'X-Nul: a\0b'),
  header('nul-name', 'a NUL in a header name is refused', 'X-N\0ul: a'),
  header('bare-cr-value', 'a bare CR in a header value is refused', 'X-Cr: a\rb'),
  header('bare-cr-end', 'a header ended by a bare CR is refused', 'X-Cr: a\rX-Other: b'),
  header('no-colon', 'a header line without a colon is refused', 'X-No-Colon'),
  header('space-in-name', 'a space inside a header name is refused', 'X Space: a'),
  header('paren-in-name', 'a non-token character in a header name is refused', 'X(: a'),
  header('empty-name', 'a header with an empty name is refused', ': a'),
  header('del-in-value', 'a DEL in a header value is refused', 'X-Del: a\x7fb'),
  {
    id: `${C}/bare-lf-everywhere`,
    category: C,
    rule: 'a request with bare LF line endings is refused',
    send: 'GET http://{target}/allowed/x HTTP/1.1\nHost: {target}\nProxy-Authorization: {auth}\n\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/bare-lf-one-header`,
    category: C,
    rule: 'one header ended by a bare LF is refused',
    send: echoGet('/allowed/x', 'X-A: b\nX-Host: sentinel.test\r\n'),
    expect: [MALFORMED],
  },
  {
    id: `${C}/bare-lf-end-of-head`,
    category: C,
    rule: 'a head ended by a bare LF is refused',
    send: 'GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/version-missing`,
    category: C,
    rule: 'an HTTP/0.9 request line is refused',
    send: 'GET http://{target}/allowed/x\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/version-2`,
    category: C,
    rule: 'HTTP/2.0 in an HTTP/1 request line is refused',
    send: 'GET http://{target}/allowed/x HTTP/2.0\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/version-lower-case`,
    category: C,
    rule: 'a lower-case protocol name is refused',
    send: 'GET http://{target}/allowed/x http/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/version-junk-after`,
    category: C,
    rule: 'junk after the version is refused',
    send: 'GET http://{target}/allowed/x HTTP/1.1 x\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/double-space`,
    category: C,
    rule: 'two spaces in the request line are refused',
    send: 'GET  http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
    knownGap: SPACES_GAP,
  },
  {
    id: `${C}/http10-allowed`,
    category: C,
    rule: 'a plain HTTP/1.0 request is relayed',
    send: 'GET http://{target}/allowed/x HTTP/1.0\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [exact('GET', '/allowed/x')],
  },

  // Sizes.
  {
    id: `${C}/head-too-large`,
    category: C,
    rule: 'a head over the limit is refused whole with 431, never truncated',
    send: echoGet('/allowed/x', `X-Big: ${'a'.repeat(40_000)}\r\n`),
    expect: [refused('TOLLGATE_HEADERS_TOO_LARGE')],
  },
  {
    id: `${C}/head-too-large-many`,
    category: C,
    rule: 'many headers adding up past the limit are refused with 431',
    send: echoGet('/allowed/x', `${'X-Part: aaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(1500)}`),
    expect: [refused('TOLLGATE_HEADERS_TOO_LARGE')],
  },
  {
    id: `${C}/request-line-too-large`,
    category: C,
    rule: 'a request line over the limit is refused with 431',
    send: echoGet(`/allowed/${'a'.repeat(40_000)}`),
    expect: [refused('TOLLGATE_HEADERS_TOO_LARGE')],
  },
  {
    id: `${C}/many-headers-all-forwarded`,
    category: C,
    // The echo (Node's default) keeps only ~1,000 headers; past it see host-duplicate-after-many.
    rule: '900 small headers are all kept: the last one still reaches the upstream',
    send: echoGet('/allowed/x', `${'X-F: 1\r\n'.repeat(900)}X-Last: yes\r\n`),
    expect: [exact('GET', '/allowed/x', { headers: { 'x-last': 'yes' } })],
  },

  // Smuggling: what follows a refused or a complete request is read as a request of its own,
  // decided on its own, or not at all.
  {
    id: `${C}/pipelined-after-refused`,
    category: C,
    rule: 'a request pipelined after a refused one is decided on its own',
    send: `${echoGet('/sentinel')}${echoGet('/allowed/after')}`,
    expect: [NO_MATCH, exact('GET', '/allowed/after')],
  },
  {
    id: `${C}/pipelined-refused-after-allowed`,
    category: C,
    rule: 'a refused request pipelined after an allowed one is still refused',
    send: `${echoGet('/allowed/first')}${echoGet('/allowed/admin/keys')}`,
    expect: [exact('GET', '/allowed/first'), refused('TOLLGATE_POLICY_DENIED')],
  },
  {
    id: `${C}/pipelined-three`,
    category: C,
    rule: 'three pipelined requests get three answers, in order',
    send: `${echoGet('/allowed/1')}${echoGet('/nope')}${echoGet('/allowed/3')}`,
    expect: [exact('GET', '/allowed/1'), NO_MATCH, exact('GET', '/allowed/3')],
  },
  {
    id: `${C}/body-of-refused-request`,
    category: C,
    rule: 'the body of a refused request is discarded, never read as a request',
    send: `POST http://{target}/sentinel HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: {length}\r\n\r\n${SMUGGLED}{end}`,
    expect: [NO_MATCH],
  },
  {
    id: `${C}/chunked-body-of-refused-request`,
    category: C,
    rule: 'a chunked body of a refused request is discarded, never read as a request',
    send: `POST http://{target}/sentinel HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n${TE}: chunked\r\n\r\n10\r\nGET /allowed/sm \r\n0\r\n\r\n`,
    expect: [NO_MATCH],
  },
  {
    id: `${C}/body-of-denied-path`,
    category: C,
    rule: 'the body of a request refused by a deny rule is discarded',
    send: `POST http://{target}/allowed/admin/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: {length}\r\n\r\n${SMUGGLED}{end}`,
    expect: [refused('TOLLGATE_POLICY_DENIED')],
  },
  {
    id: `${C}/body-of-unauthenticated-request`,
    category: C,
    rule: 'after a 407 the connection closes: its body is never read as a request',
    send: `POST http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nContent-Length: {length}\r\n\r\n${SMUGGLED}{end}`,
    expect: [refused('TOLLGATE_AUTH_REQUIRED')],
  },
  {
    id: `${C}/body-of-bad-path`,
    category: C,
    rule: 'the body of a request with a refused path is discarded',
    send: `POST http://{target}/allowed/%2e%2e%2f HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: {length}\r\n\r\n${SMUGGLED}{end}`,
    expect: [refused('TOLLGATE_BAD_PATH')],
  },
  {
    id: `${C}/body-that-looks-like-request`,
    category: C,
    rule: 'an allowed body that looks like a request is only a body',
    send: `POST http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: {length}\r\n\r\nGET http://sentinel.test/ HTTP/1.1\r\n\r\n{end}`,
    expect: [exact('POST', '/allowed/x', { body: 'GET http://sentinel.test/ HTTP/1.1\r\n\r\n' })],
  },
  {
    id: `${C}/get-with-body`,
    category: C,
    rule: 'a GET body is forwarded as a body, not read as the next request',
    send: `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: {length}\r\n\r\nGET http://sentinel.test/ HTTP/1.1\r\n\r\n{end}`,
    expect: [exact('GET', '/allowed/x', { body: 'GET http://sentinel.test/ HTTP/1.1\r\n\r\n' })],
  },
  {
    id: `${C}/cl-zero-then-request`,
    category: C,
    rule: 'Content-Length: 0 ends the request; what follows is decided on its own',
    send: `POST http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: 0\r\n\r\nGET http://sentinel.test:{P}/x HTTP/1.1\r\nHost: sentinel.test:{P}\r\nProxy-Authorization: {auth}\r\n\r\n`,
    expect: [exact('POST', '/allowed/x', { body: '' }), NO_MATCH],
  },
  {
    id: `${C}/garbage-after-request`,
    category: C,
    rule: 'garbage after a complete request is refused as malformed',
    send: `${echoGet('/allowed/x')}\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`,
    expect: [exact('GET', '/allowed/x'), MALFORMED],
  },
  {
    id: `${C}/expect-continue-refused`,
    category: C,
    rule: 'Expect: 100-continue on a refused request gets the refusal, never 100 Continue',
    send: `POST http://{target}/sentinel HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`,
    expect: [NO_MATCH],
  },
  {
    id: `${C}/expect-continue-allowed`,
    category: C,
    rule: 'Expect: 100-continue on an allowed request: 100 Continue after the decision, then the answer',
    send: `POST http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello`,
    expect: [exact('POST', '/allowed/x', { body: 'hello', headers: { expect: null } })],
  },
  {
    id: `${C}/expect-unknown`,
    category: C,
    rule: 'an expectation other than 100-continue is refused by the relay, not by Node',
    send: echoGet('/allowed/x', 'Expect: something-else\r\n'),
    expect: [MALFORMED],
  },
  {
    id: `${C}/expect-twice`,
    category: C,
    rule: 'a repeated Expect is refused',
    send: echoGet('/allowed/x', 'Expect: 100-continue\r\nExpect: 100-continue\r\n'),
    expect: [MALFORMED],
  },
  {
    id: `${C}/expect-unknown-reverse`,
    category: C,
    rule: 'an expectation other than 100-continue is refused by the relay on reverse routes too',
    listener: 'reverse',
    send: 'GET /echo/x HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\nExpect: x-other\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/garbage-after-slow-answer`,
    category: C,
    rule: 'a malformed request pipelined behind an allowed one is refused after its answer',
    send: `${echoPost('/allowed/x', 'first')}GARBAGE / HTTP/1.1\r\n\r\n`,
    expect: [exact('POST', '/allowed/x', { body: 'first' }), MALFORMED],
  },
]
