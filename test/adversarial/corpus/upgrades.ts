import { echoGet, forward, refused, type CorpusCase } from './case.js'

/**
 * Upgrades. A protocol switch hands the connection to something the relay no longer reads as
 * HTTP requests, so it passes only as WebSocket and only where a rule says `websocket: true`,
 * which no rule here does. HTTP/2 is not offered at all.
 */
const C = 'upgrades' as const

const DENIED = refused('TOLLGATE_UPGRADE_DENIED')
const WS = 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
const NOT_ALLOWED = 'an upgrade no rule allows is refused'

function upgrade(
  id: string,
  rule: string,
  headers: string,
  expect = DENIED,
  path = '/allowed/ws',
): CorpusCase {
  return { id: `${C}/${id}`, category: C, rule, send: echoGet(path, headers), expect: [expect] }
}

export const UPGRADES: CorpusCase[] = [
  upgrade('websocket', NOT_ALLOWED, `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`),
  upgrade(
    'websocket-mixed-case',
    NOT_ALLOWED,
    `Connection: upgrade\r\nUpgrade: WebSocket\r\n${WS}`,
  ),
  upgrade(
    'websocket-list',
    NOT_ALLOWED,
    `Connection: keep-alive, Upgrade\r\nUpgrade: websocket, h2c\r\n${WS}`,
  ),
  upgrade(
    'websocket-credential-path',
    NOT_ALLOWED,
    `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`,
    DENIED,
    '/cred/header/ws',
  ),
  upgrade(
    'websocket-denied-path',
    'a denied path stays denied as an upgrade',
    `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`,
    refused('TOLLGATE_POLICY_DENIED'),
    '/allowed/admin/ws',
  ),
  upgrade(
    'websocket-no-match',
    'an upgrade to a path no rule allows is refused',
    `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`,
    refused('TOLLGATE_POLICY_NO_MATCH'),
    '/ws',
  ),
  upgrade(
    'h2c',
    'an h2c upgrade is refused',
    'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n',
  ),
  upgrade('h2c-upper', 'an h2c upgrade is refused', 'Connection: Upgrade\r\nUpgrade: H2C\r\n'),
  upgrade(
    'tls-upgrade',
    'an RFC 2817 TLS upgrade is refused',
    'Connection: Upgrade\r\nUpgrade: TLS/1.2, HTTP/1.1\r\n',
  ),
  upgrade(
    'unknown-protocol',
    'an unknown protocol upgrade is refused',
    'Connection: Upgrade\r\nUpgrade: x-tunnel\r\n',
  ),
  upgrade(
    'http2-protocol-name',
    'an upgrade to HTTP/2.0 is refused',
    'Connection: Upgrade\r\nUpgrade: HTTP/2.0\r\n',
  ),
  {
    id: `${C}/websocket-sentinel`,
    category: C,
    rule: 'an upgrade to a host no rule allows is refused',
    send: forward(
      'GET',
      'http://sentinel.test:{P}/ws',
      `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`,
    ),
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
  {
    id: `${C}/websocket-roamer-loopback`,
    category: C,
    rule: 'an upgrade under a rule without websocket is refused whatever the address',
    send: `GET http://127.0.0.1:{P}/ws HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nProxy-Authorization: {roamer}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${WS}\r\n`,
    expect: [refused()],
  },
  {
    id: `${C}/websocket-unauthenticated`,
    category: C,
    rule: 'an upgrade without proxy credentials is refused with 407',
    send: `GET http://{target}/allowed/ws HTTP/1.1\r\nHost: {target}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${WS}\r\n`,
    expect: [refused('TOLLGATE_AUTH_REQUIRED')],
  },
  {
    id: `${C}/websocket-bytes-after-refusal`,
    category: C,
    rule: 'frames sent after a refused upgrade go nowhere',
    send: `${echoGet('/allowed/ws', `Connection: Upgrade\r\nUpgrade: websocket\r\n${WS}`)}\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58`,
    expect: [DENIED],
  },
  {
    id: `${C}/h2-preface`,
    category: C,
    rule: 'an HTTP/2 connection preface is refused: h2 is not offered',
    send: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    expect: [refused('TOLLGATE_MALFORMED_REQUEST')],
  },
]
