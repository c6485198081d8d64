import { echoGet, echoPost, exact, forward, type CorpusCase } from './case.js'

/**
 * Hop-by-hop headers. They describe one connection and never travel on; an agent may name more
 * of them in `Connection`, but never to strip what the relay itself adds (the injected
 * credential, `Host`, `Accept-Encoding: identity`) or to carry its proxy token upstream.
 */
const C = 'hop-by-hop' as const

function hop(
  id: string,
  rule: string,
  send: string,
  headers: Record<string, string | null>,
  url = '/allowed/x',
): CorpusCase {
  return { id: `${C}/${id}`, category: C, rule, send, expect: [exact('GET', url, { headers })] }
}

const STRIPPED = 'hop-by-hop headers are not forwarded'
const KEPT = 'naming a header in Connection cannot strip what the relay sets'
const CRED = '/cred/header/x'

export const HOP_BY_HOP: CorpusCase[] = [
  hop('proxy-authorization', 'the agent token never travels upstream', echoGet('/allowed/x'), {
    'proxy-authorization': null,
  }),
  hop(
    'connection-proxy-authorization',
    'naming Proxy-Authorization in Connection changes nothing',
    echoGet('/allowed/x', 'Connection: proxy-authorization\r\n'),
    {
      'proxy-authorization': null,
    },
  ),
  hop(
    'connection-x-api-key',
    KEPT,
    echoGet(CRED, 'Connection: x-api-key\r\nX-Api-Key: agent-own\r\n'),
    {
      'x-api-key': '{secret:header}',
    },
    CRED,
  ),
  hop(
    'connection-x-api-key-case',
    KEPT,
    echoGet(CRED, 'Connection: X-API-KEY\r\n'),
    {
      'x-api-key': '{secret:header}',
    },
    CRED,
  ),
  hop(
    'connection-list-x-api-key',
    KEPT,
    echoGet(CRED, 'Connection: keep-alive, , X-Api-Key ,close\r\n'),
    {
      'x-api-key': '{secret:header}',
    },
    CRED,
  ),
  hop(
    'connection-second-header',
    KEPT,
    echoGet(CRED, 'Connection: keep-alive\r\nConnection: x-api-key\r\n'),
    {
      'x-api-key': '{secret:header}',
    },
    CRED,
  ),
  hop(
    'connection-accept-encoding',
    KEPT,
    echoGet(CRED, 'Connection: accept-encoding\r\nAccept-Encoding: gzip\r\n'),
    {
      'accept-encoding': 'identity',
    },
    CRED,
  ),
  hop(
    'agent-accept-encoding',
    'the relay asks for identity wherever it injects, to scrub the answer',
    echoGet(CRED, 'Accept-Encoding: gzip, br\r\n'),
    {
      'accept-encoding': 'identity',
    },
    CRED,
  ),
  hop('connection-host', KEPT, echoGet('/allowed/x', 'Connection: host\r\n'), { host: '{target}' }),
  hop(
    'agent-api-key-replaced',
    'every agent copy of the credential header is replaced by one value',
    echoGet(CRED, 'X-Api-Key: one\r\nx-api-key: two\r\nX-API-KEY: three\r\n'),
    {
      'x-api-key': '{secret:header}',
    },
    CRED,
  ),
  hop(
    'connection-named-stripped',
    'a header the agent names in Connection is not forwarded',
    echoGet('/allowed/x', 'Connection: x-secret-hop\r\nX-Secret-Hop: 1\r\n'),
    {
      'x-secret-hop': null,
    },
  ),
  hop('keep-alive', STRIPPED, echoGet('/allowed/x', 'Keep-Alive: timeout=1\r\n'), {
    'keep-alive': null,
  }),
  hop('proxy-connection', STRIPPED, echoGet('/allowed/x', 'Proxy-Connection: keep-alive\r\n'), {
    'proxy-connection': null,
  }),
  hop('te-trailers', STRIPPED, echoGet('/allowed/x', 'TE: trailers\r\n'), { te: null }),
  hop('trailer', STRIPPED, echoGet('/allowed/x', 'Trailer: X-Checksum\r\n'), { trailer: null }),
  hop(
    'upgrade-without-connection',
    'an Upgrade header without Connection: upgrade is dropped, not acted on',
    echoGet('/allowed/x', 'Upgrade: websocket\r\n'),
    {
      upgrade: null,
    },
  ),
  hop('proxy-authenticate', STRIPPED, echoGet('/allowed/x', 'Proxy-Authenticate: Basic\r\n'), {
    'proxy-authenticate': null,
  }),
  {
    id: `${C}/connection-content-length`,
    category: C,
    rule: 'naming Content-Length in Connection does not lose the body',
    send: echoPost('/allowed/x', 'hello', 'Connection: content-length\r\n'),
    expect: [exact('POST', '/allowed/x', { body: 'hello' })],
  },
  {
    id: `${C}/connection-transfer-encoding`,
    category: C,
    rule: 'naming Transfer-Encoding in Connection does not lose the body',
    send: forward(
      'POST',
      'http://{target}/allowed/x',
      'Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n',
      '5\r\nhello\r\n0\r\n\r\n',
    ),
    expect: [exact('POST', '/allowed/x', { body: 'hello' })],
  },
]
