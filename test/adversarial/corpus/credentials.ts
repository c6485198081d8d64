import {
  echoGet,
  echoPost,
  exact,
  forward,
  inner,
  refused,
  type CorpusCase,
  type Outcome,
} from './case.js'

/**
 * Credentials. The header credential is injected on `/cred/header/**` of the echo (and inside
 * the `secure.test` tunnel); the placeholder `{ph}` is swapped on `/cred/ph/**` of the echo
 * only; `{ph-else}` belongs to a host no rule reaches. A placeholder headed anywhere it is not
 * bound is an exfiltration attempt; an injected value never comes back to the agent, however
 * the upstream echoes it (the runner checks every response byte for every form of it).
 */
const C = 'credentials' as const

const MISUSE = refused('TOLLGATE_PLACEHOLDER_MISUSE')
const OTHER = 'http://other.test:{P}'
const STRAY = 'a placeholder sent to a host its credential is not bound to is refused'

function stray(id: string, send: string, rule = STRAY): CorpusCase {
  return { id: `${C}/${id}`, category: C, rule, send, expect: [MISUSE] }
}

const SCRUBBED = 'the echoed secret is scrubbed from what the agent receives'

/** The allowed GET, with the agent's own token presented as `auth` (header lines). */
function token(id: string, rule: string, auth: string, expect: Outcome): CorpusCase {
  const send = `GET http://{target}/allowed/x HTTP/1.1\r\nHost: {target}\r\n${auth}\r\n`
  return { id: `${C}/${id}`, category: C, rule, send, expect: [expect] }
}

export const CREDENTIALS: CorpusCase[] = [
  stray('placeholder-header-other-host', forward('GET', `${OTHER}/allowed/x`, 'X-Key: {ph}\r\n')),
  stray(
    'placeholder-authorization-other-host',
    forward('GET', `${OTHER}/allowed/x`, 'Authorization: Bearer {ph}\r\n'),
  ),
  stray(
    'placeholder-cookie-other-host',
    forward('GET', `${OTHER}/allowed/x`, 'Cookie: session={ph}\r\n'),
  ),
  stray('placeholder-query-other-host', forward('GET', `${OTHER}/allowed/x?key={ph}`)),
  stray('placeholder-query-encoded', forward('GET', `${OTHER}/allowed/x?key=%74g-ph-echo-0001`)),
  stray(
    'placeholder-query-double-encoded',
    forward('GET', `${OTHER}/allowed/x?key=%2574g-ph-echo-0001`),
  ),
  stray('placeholder-query-plus-name', forward('GET', `${OTHER}/allowed/x?a+b={ph}`)),
  stray('placeholder-path-other-host', forward('GET', `${OTHER}/allowed/{ph}`)),
  stray('placeholder-path-encoded', forward('GET', `${OTHER}/allowed/%74g-ph-echo-0001`)),
  stray('placeholder-path-inside-segment', forward('GET', `${OTHER}/allowed/x-{ph}-y`)),
  stray(
    'placeholder-body-other-host',
    forward('POST', `${OTHER}/allowed/x`, 'Content-Length: {length}\r\n', 'token={ph}{end}'),
  ),
  stray(
    'placeholder-body-chunked-split',
    forward(
      'POST',
      `${OTHER}/allowed/x`,
      'Transfer-Encoding: chunked\r\n',
      '5\r\ntg-ph\r\na\r\n-echo-0001\r\n0\r\n\r\n',
    ),
  ),
  stray(
    'placeholder-body-json',
    forward(
      'POST',
      `${OTHER}/allowed/x`,
      'Content-Type: application/json\r\nContent-Length: {length}\r\n',
      '{"key":"{ph}"}{end}',
    ),
  ),
  stray(
    'placeholder-denied-host',
    forward('GET', 'http://sentinel.test:{P}/x', 'X-Key: {ph}\r\n'),
    'a placeholder is caught even on its way to a host no rule allows',
  ),
  stray(
    'placeholder-roamer',
    `GET http://93.184.215.14/x?k={ph} HTTP/1.1\r\nHost: 93.184.215.14\r\nProxy-Authorization: {roamer}\r\n\r\n`,
    'any agent sending a placeholder elsewhere is refused',
  ),
  stray(
    'foreign-placeholder-to-echo',
    echoGet('/allowed/x', 'X-Key: {ph-else}\r\n'),
    'a placeholder bound to another host is refused on the echo',
  ),
  stray(
    'foreign-placeholder-to-cred-path',
    echoGet('/cred/ph/x', 'X-Key: {ph-else}\r\n'),
    'a foreign placeholder is refused even where another is swapped',
  ),
  stray(
    'foreign-placeholder-body',
    echoPost('/allowed/x', '{ph-else}'),
    'a foreign placeholder in a body is refused',
  ),
  stray(
    'placeholder-two-at-once',
    forward('GET', `${OTHER}/allowed/x`, 'X-A: {ph}\r\nX-B: {ph-else}\r\n'),
  ),
  token(
    'token-twice',
    'two Proxy-Authorization headers are refused',
    'Proxy-Authorization: {auth}\r\nProxy-Authorization: {roamer}\r\n',
    refused('TOLLGATE_AMBIGUOUS_TARGET'),
  ),
  token(
    'token-other-agent-name',
    'a token presented under another agent name is refused',
    'Proxy-Authorization: {other-agent}\r\n',
    refused('TOLLGATE_AUTH_AGENT_MISMATCH'),
  ),
  token(
    'token-malformed',
    'a token of the wrong shape is refused before any lookup',
    'Proxy-Authorization: Bearer tgt_short\r\n',
    refused('TOLLGATE_AUTH_INVALID'),
  ),
  token(
    'token-in-authorization',
    'the forward proxy reads its token from Proxy-Authorization only',
    'Authorization: {bearer}\r\n',
    refused('TOLLGATE_AUTH_REQUIRED'),
  ),
  token(
    'token-basic-no-colon',
    'Basic credentials without agent:token are refused',
    'Proxy-Authorization: Basic Ym90\r\n',
    refused(),
  ),
  token(
    'token-unknown-scheme',
    'an unknown authorization scheme is refused',
    'Proxy-Authorization: Digest {token}\r\n',
    refused(),
  ),
  {
    id: `${C}/placeholder-inside-tunnel`,
    category: C,
    rule: 'a placeholder sent inside a tunnel to a host it is not bound to is refused',
    send: inner('GET', '/allowed/x', 'X-Key: {ph}\r\n'),
    tunnel: { authority: '{secure}', sni: 'secure.test' },
    expect: [MISUSE],
  },
  {
    id: `${C}/placeholder-swapped`,
    category: C,
    rule: 'on its bound host the placeholder becomes the secret, and its echo is scrubbed',
    send: echoGet('/cred/ph/x', 'X-Key: {ph}\r\n'),
    expect: [exact('GET', '/cred/ph/x', { headers: { 'x-key': '{secret:placeholder}' } })],
  },
  {
    id: `${C}/placeholder-swapped-in-body`,
    category: C,
    rule: 'on its bound host a placeholder in the body becomes the secret, and its echo is scrubbed',
    send: echoPost('/cred/ph/x', 'key={ph}'),
    expect: [exact('POST', '/cred/ph/x', { body: 'key={secret:placeholder}' })],
  },
  {
    id: `${C}/placeholder-on-allowed-path-not-swapped`,
    category: C,
    rule: 'the placeholder is swapped only on requests its rule allows',
    send: echoGet('/allowed/x', 'X-Key: {ph}\r\n'),
    expect: [exact('GET', '/allowed/x', { headers: { 'x-key': '{ph}' } })],
  },
  {
    id: `${C}/header-echoed`,
    category: C,
    rule: SCRUBBED,
    send: echoGet('/cred/header/echo'),
    expect: [exact('GET', '/cred/header/echo', { headers: { 'x-api-key': '{secret:header}' } })],
  },
  {
    id: `${C}/header-echoed-in-tunnel`,
    category: C,
    rule: SCRUBBED,
    send: inner('GET', '/cred/header/echo'),
    tunnel: { authority: '{secure}', sni: 'secure.test' },
    expect: [
      exact('GET', '/cred/header/echo', {
        host: '{secure}',
        headers: { 'x-api-key': '{secret:header}' },
      }),
    ],
  },
  {
    id: `${C}/header-echoed-post`,
    category: C,
    rule: SCRUBBED,
    send: echoPost('/cred/header/echo', 'please echo X-Api-Key back'),
    expect: [exact('POST', '/cred/header/echo', { body: 'please echo X-Api-Key back' })],
  },
  {
    id: `${C}/redirect-carries-secret`,
    category: C,
    rule: 'a redirect is passed back, not followed, and its Location is scrubbed',
    send: echoGet('/cred/header/redirect'),
    expect: [exact('GET', '/cred/header/redirect')],
  },
  {
    id: `${C}/plaintext-refused`,
    category: C,
    rule: 'a credential is not injected over plain HTTP unless the rule says so',
    send: echoGet('/cred/tls-only/x'),
    expect: [refused('TOLLGATE_CREDENTIAL_PLAINTEXT')],
  },
  {
    id: `${C}/credential-path-other-host`,
    category: C,
    rule: 'an agent cannot choose where a credential goes: no rule injects it on another host',
    send: forward('GET', `${OTHER}/cred/header/echo`),
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
  {
    id: `${C}/credential-path-denied-method`,
    category: C,
    rule: 'a credential rule does not widen the methods',
    send: forward('DELETE', 'http://{target}/cred/header/x'),
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
  {
    id: `${C}/credential-dots-into-path`,
    category: C,
    rule: 'a path that resolves to a credential path is decided and injected as that path',
    send: echoGet('/allowed/../cred/header/echo'),
    expect: [exact('GET', '/cred/header/echo', { headers: { 'x-api-key': '{secret:header}' } })],
  },
  {
    id: `${C}/credential-agent-token-not-forwarded`,
    category: C,
    rule: 'the agent token never reaches an upstream, credential or not',
    send: echoGet('/cred/header/echo'),
    expect: [exact('GET', '/cred/header/echo', { headers: { 'proxy-authorization': null } })],
  },
]
