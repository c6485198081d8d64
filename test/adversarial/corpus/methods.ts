import { echoGet, echoPost, exact, forward, refused, type CorpusCase } from './case.js'

/**
 * Methods. The narrow agent may GET and POST on `/allowed/**`. No other method, however it is
 * spelled or smuggled in an override header or parameter that upstream frameworks honour,
 * may reach the echo.
 */
const C = 'methods' as const

const NO_MATCH = refused('TOLLGATE_POLICY_NO_MATCH')
const MALFORMED = refused('TOLLGATE_MALFORMED_REQUEST')
const OVERRIDE = 'a method override naming a method the policy forbids is refused'

// Override values in forms upstream frameworks decode: Symfony and Laravel read `_method` from
// the query, PHP decodes parameter names, and CGI servers turn `_` in header names into `-`.

function method(id: string, rule: string, verb: string, expect = NO_MATCH): CorpusCase {
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    send: forward(verb, 'http://{target}/allowed/x'),
    expect: [expect],
  }
}

function overrideHeader(id: string, header: string, knownGap?: string): CorpusCase {
  const send = echoPost('/allowed/x', '', `${header}\r\n`)
  return {
    id: `${C}/${id}`,
    category: C,
    rule: OVERRIDE,
    send,
    expect: [NO_MATCH],
    ...gap(knownGap),
  }
}

function overrideQuery(id: string, query: string, verb = 'POST', knownGap?: string): CorpusCase {
  const send = verb === 'GET' ? echoGet(`/allowed/x?${query}`) : echoPost(`/allowed/x?${query}`, '')
  return {
    id: `${C}/${id}`,
    category: C,
    rule: OVERRIDE,
    send,
    expect: [NO_MATCH],
    ...gap(knownGap),
  }
}

function gap(knownGap: string | undefined): { knownGap?: string } {
  return knownGap === undefined ? {} : { knownGap }
}

export const METHODS: CorpusCase[] = [
  method('delete', 'a method no rule allows is refused', 'DELETE'),
  method('put', 'a method no rule allows is refused', 'PUT'),
  method('patch', 'a method no rule allows is refused', 'PATCH'),
  method('options', 'a method no rule allows is refused', 'OPTIONS'),
  method('trace', 'TRACE (cross-site tracing) is refused', 'TRACE'),
  method('purge', 'a cache method no rule allows is refused', 'PURGE'),
  method('propfind', 'a WebDAV method no rule allows is refused', 'PROPFIND'),
  method('query', 'the QUERY method is not GET', 'QUERY'),
  method(
    'lower-case',
    'methods are case-sensitive: get is refused, not read as GET',
    'get',
    MALFORMED,
  ),
  method('mixed-case', 'methods are case-sensitive: GeT is refused', 'GeT', MALFORMED),
  method('lower-post', 'methods are case-sensitive: post is refused', 'post', MALFORMED),
  method('unknown', 'an unknown method is refused', 'FOO', MALFORMED),
  method('unknown-lookalike', 'GETS is not GET', 'GETS', MALFORMED),
  method('with-digits', 'a method with digits is refused', 'GET2', MALFORMED),
  method('hyphenated', 'M-SEARCH is refused', 'M-SEARCH', MALFORMED),
  method('very-long', 'a 5,000-character method is refused', 'G'.repeat(5000), MALFORMED),
  {
    id: `${C}/tab-separated`,
    category: C,
    rule: 'a tab between method and target is refused',
    send: 'GET\thttp://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/leading-space`,
    category: C,
    rule: 'a request line starting with a space is refused',
    send: ' GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n',
    expect: [MALFORMED],
  },
  {
    id: `${C}/connect-absolute`,
    category: C,
    rule: 'CONNECT with an absolute-form target is refused',
    send: forward('CONNECT', 'http://{target}/allowed/x'),
    expect: [refused()],
  },
  overrideHeader('override-header', 'X-HTTP-Method-Override: DELETE'),
  overrideHeader('override-x-http-method', 'X-HTTP-Method: DELETE'),
  overrideHeader('override-x-method-override', 'X-Method-Override: PUT'),
  overrideHeader('override-lower-value', 'X-HTTP-Method-Override: delete'),
  overrideHeader('override-upper-name', 'X-HTTP-METHOD-OVERRIDE: PATCH'),
  overrideHeader('override-padded', 'X-HTTP-Method-Override:   DELETE   '),
  overrideHeader('override-list', 'X-HTTP-Method-Override: DELETE, GET'),
  overrideHeader(
    'override-second-header',
    'X-HTTP-Method-Override: GET\r\nX-HTTP-Method-Override: DELETE',
  ),
  overrideHeader(
    'override-after-many',
    `${'X-Filler: 1\r\n'.repeat(1200)}X-HTTP-Method-Override: DELETE`,
  ),
  overrideHeader('override-underscores', 'X_HTTP_Method_Override: DELETE'),
  overrideQuery('query-method', '_method=DELETE'),
  overrideQuery('query-method-plain', 'method=DELETE'),
  overrideQuery('query-method-upper-name', '_METHOD=DELETE'),
  overrideQuery('query-method-lower-value', '_method=delete'),
  overrideQuery('query-method-encoded-value', '_method=%44ELETE'),
  overrideQuery('query-method-plus-padded', '_method=+DELETE+'),
  overrideQuery('query-method-later', 'a=1&b=2&_method=PUT'),
  overrideQuery('query-method-repeated', '_method=GET&_method=DELETE'),
  overrideQuery('query-method-on-get', '_method=DELETE', 'GET'),
  overrideQuery('query-method-encoded-name', '%5Fmethod=DELETE'),
  overrideQuery('query-method-encoded-letter', '_%6Dethod=DELETE'),
  {
    id: `${C}/override-in-form-body`,
    category: C,
    rule: OVERRIDE,
    send: echoPost(
      '/allowed/x',
      '_method=DELETE',
      'Content-Type: application/x-www-form-urlencoded\r\n',
    ),
    expect: [NO_MATCH],
  },
  {
    id: `${C}/override-in-form-body-escaped`,
    category: C,
    rule: OVERRIDE,
    send: echoPost(
      '/allowed/x',
      'a=1&%5F%6Dethod=delete&b=2',
      'Content-Type: Application/X-WWW-Form-Urlencoded; charset=utf-8\r\n',
    ),
    expect: [NO_MATCH],
  },
  {
    id: `${C}/override-in-json-body`,
    category: C,
    rule: OVERRIDE,
    send: echoPost(
      '/allowed/x',
      '{"data": {"_method": "GET"}, "\\u005Fmethod": "DELETE"}',
      'Content-Type: application/json\r\n',
    ),
    expect: [NO_MATCH],
  },
  {
    id: `${C}/override-in-multipart-body`,
    category: C,
    rule: OVERRIDE,
    send: echoPost(
      '/allowed/x',
      '--b0undary\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n' +
        '--b0undary\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n' +
        '--b0undary--\r\n',
      'Content-Type: multipart/form-data; boundary=b0undary\r\n',
    ),
    expect: [NO_MATCH],
  },
  {
    id: `${C}/json-nested-method-is-data`,
    category: C,
    rule: 'a _method nested inside a JSON body is data: frameworks read the top level only',
    send: echoPost(
      '/allowed/x',
      '{"data": {"_method": "DELETE"}}',
      'Content-Type: application/json\r\n',
    ),
    expect: [exact('POST', '/allowed/x', { body: '{"data": {"_method": "DELETE"}}' })],
  },
  {
    id: `${C}/form-field-named-method`,
    category: C,
    rule: 'a body field called method (not _method) is ordinary data',
    send: echoPost(
      '/allowed/x',
      'method=card',
      'Content-Type: application/x-www-form-urlencoded\r\n',
    ),
    expect: [exact('POST', '/allowed/x', { body: 'method=card' })],
  },
  {
    id: `${C}/override-to-allowed-method`,
    category: C,
    rule: 'an override naming an allowed method passes, as sent',
    send: echoPost('/allowed/x', 'hi', 'X-HTTP-Method-Override: GET\r\n'),
    expect: [
      exact('POST', '/allowed/x', { body: 'hi', headers: { 'x-http-method-override': 'GET' } }),
    ],
  },
  {
    id: `${C}/override-same-method`,
    category: C,
    rule: 'an override repeating the request method passes',
    send: echoGet('/allowed/x?_method=GET'),
    expect: [exact('GET', '/allowed/x?_method=GET')],
  },
  {
    id: `${C}/override-on-denied-path`,
    category: C,
    rule: 'an override cannot turn a denied path into an allowed one',
    send: echoGet('/allowed/admin/x', 'X-HTTP-Method-Override: POST\r\n'),
    expect: [refused('TOLLGATE_POLICY_DENIED')],
  },
]
