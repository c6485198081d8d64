import { refused, type CorpusCase, type Outcome, exact } from './case.js'

/**
 * Reverse routes. `/echo/<rest>` goes to `http://echo.test:{P}/allowed/<rest>`; the agent
 * supplies only the rest of the path, which must never climb out of the route's base path or
 * name another host, and its token (in Authorization or X-Api-Key) never travels upstream.
 */
const C = 'reverse' as const

function reverse(
  id: string,
  rule: string,
  target: string,
  expect: Outcome,
  extra = '',
): CorpusCase {
  return {
    id: `${C}/${id}`,
    category: C,
    rule,
    listener: 'reverse',
    send: `GET ${target} HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\n${extra}\r\n`,
    expect: [expect],
  }
}

const BAD = refused('TOLLGATE_BAD_PATH')
const UNKNOWN = refused('TOLLGATE_UNKNOWN_ROUTE')
const CLIMB = 'the rest of the path cannot climb out of the route'
const STEER = 'the path cannot name another host'

export const REVERSE: CorpusCase[] = [
  reverse(
    'baseline',
    'a route request reaches the route upstream with the route base path',
    '/echo/x',
    exact('GET', '/allowed/x', { headers: { authorization: null } }),
  ),
  reverse('dots', CLIMB, '/echo/../x', BAD),
  reverse(
    'dots-inside',
    'dots inside the rest resolve within it',
    '/echo/a/../x',
    exact('GET', '/allowed/x'),
  ),
  reverse('encoded-dots', CLIMB, '/echo/%2e%2e/x', BAD),
  reverse('encoded-dots-deep', CLIMB, '/echo/a/%2e%2e/%2e%2e/admin', BAD),
  reverse('encoded-slash', CLIMB, '/echo/..%2fx', BAD),
  reverse('overlong-dots', CLIMB, '/echo/%c0%ae%c0%ae/x', BAD),
  reverse(
    'into-denied',
    'a denied path under the route base is still denied',
    '/echo/admin/keys',
    refused('TOLLGATE_POLICY_DENIED'),
  ),
  reverse('double-slash', STEER, '/echo//sentinel.test/x', BAD),
  reverse('backslash', STEER, '/echo/\\sentinel.test/x', BAD),
  reverse('userinfo', STEER, '/echo@sentinel.test/x', UNKNOWN),
  reverse('absolute-form', STEER, 'http://sentinel.test/echo/x', UNKNOWN),
  reverse('absolute-form-route', STEER, 'http://{target}/allowed/x', UNKNOWN),
  reverse('route-case', 'route names are exact', '/ECHO/x', UNKNOWN),
  reverse('route-encoded', 'route names are exact', '/%65cho/x', UNKNOWN),
  reverse('route-dots', 'a route name cannot be reached through dots', '/x/../echo/x', UNKNOWN),
  reverse('route-semicolon', 'route names are exact', '/echo;x/x', UNKNOWN),
  reverse(
    'host-header-ignored',
    'the Host header does not choose the upstream',
    '/echo/x',
    exact('GET', '/allowed/x'),
    'X-Forwarded-Host: sentinel.test\r\n',
  ),
  reverse(
    'api-key-not-forwarded',
    'the token in X-Api-Key is not forwarded',
    '/echo/x',
    exact('GET', '/allowed/x', { headers: { 'x-api-key': null } }),
    'X-Api-Key: {token}\r\n',
  ),
  reverse(
    'query-override',
    'method overrides are decided on reverse routes',
    '/echo/x?_method=DELETE',
    refused('TOLLGATE_POLICY_NO_MATCH'),
  ),
  {
    id: `${C}/no-token`,
    category: C,
    rule: 'a reverse request without a token is refused with 401',
    listener: 'reverse',
    send: 'GET /echo/x HTTP/1.1\r\nHost: relay.test\r\n\r\n',
    expect: [refused('TOLLGATE_AUTH_REQUIRED')],
  },
  {
    id: `${C}/two-tokens`,
    category: C,
    rule: 'two Authorization headers are refused',
    listener: 'reverse',
    send: 'GET /echo/x HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\nAuthorization: Bearer other\r\n\r\n',
    expect: [refused()],
  },
  {
    id: `${C}/upgrade`,
    category: C,
    rule: 'an upgrade on a reverse route without websocket: true is refused',
    listener: 'reverse',
    send: 'GET /echo/ws HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    expect: [refused('TOLLGATE_UPGRADE_DENIED')],
  },
  {
    id: `${C}/smuggled-body`,
    category: C,
    rule: 'the body of a refused reverse request is never read as a request',
    listener: 'reverse',
    send: 'POST /echo/../x HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\nContent-Length: {length}\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\n\r\n{end}',
    expect: [BAD],
  },
]
