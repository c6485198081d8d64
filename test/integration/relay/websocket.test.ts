import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'

function config(wsPort: number): string {
  return `
people: [{ email: alice@example.com, teams: [platform] }]
agents: [{ name: bot, owner: alice@example.com, team: platform, policies: [ws] }]
policies:
  - name: ws
    rules:
      - name: sockets
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${wsPort}]
        paths: ["/ws/**"]
        websocket: true
      - name: plain-only
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${wsPort}]
        paths: ["/plain/**"]
routes:
  - name: live
    upstream: http://127.0.0.1:${wsPort}
`
}

describe('WebSocket upgrades pass only where a rule allows them', () => {
  let upstream: Server
  let wss: WebSocketServer
  let wsPort: number
  let tg: Harness
  let token: string

  before(async () => {
    upstream = createServer((_req, res) => res.end('plain'))
    wss = new WebSocketServer({ server: upstream })
    // An upstream that dresses its 101 up with the relay's own headers, beside one of its own.
    wss.on('headers', (headers) => headers.push('Tollgate-Error: TOLLGATE_FAKE', 'X-Kept: 1'))
    wss.on('connection', (socket) =>
      socket.on('message', (data) => socket.send(`echo:${(data as Buffer).toString()}`)),
    )
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    wsPort = (upstream.address() as AddressInfo).port
    tg = await startTollgate(config(wsPort))
    token = tg.issueToken('bot').token
  })

  after(async () => {
    await tg.stop()
    for (const client of wss.clients) client.terminate()
    wss.close()
    upstream.closeAllConnections()
    await new Promise((resolve) => upstream.close(resolve))
  })

  test('a real ws client talks to the upstream through a reverse route', async () => {
    const url = `ws://127.0.0.1:${tg.reversePort}/live/ws/chat`
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    let answer: IncomingMessage | null = null
    socket.once('upgrade', (response) => (answer = response))
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('hello'))
      socket.once('message', (data: Buffer) => resolve(data.toString()))
      socket.once('error', reject)
    })
    assert.equal(reply, 'echo:hello')
    socket.close()

    const headers = (answer as IncomingMessage | null)?.headers ?? {}
    assert.equal(headers['x-kept'], '1', 'the upstream’s own headers pass')
    assert.equal(headers['tollgate-error'], undefined, 'the relay’s reserved headers do not')
  })

  test('an upgrade on a rule without websocket: true is refused with 403', async () => {
    const url = `ws://127.0.0.1:${tg.reversePort}/live/plain/chat`
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    const status = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      socket.once('open', () => resolve(101))
      socket.once('error', () => undefined)
    })
    assert.equal(status, 403)
  })

  test('the forward proxy relays an allowed upgrade and refuses an unauthenticated one', async () => {
    const head = (auth: string | null) =>
      `GET http://127.0.0.1:${wsPort}/ws/x HTTP/1.1\r\nHost: 127.0.0.1:${wsPort}\r\n` +
      `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
      (auth ? `Proxy-Authorization: ${auth}\r\n` : '') +
      '\r\n'
    const allowed = await rawRequest(tg.proxyPort, head(basicAuth('bot', token)))
    assert.equal(statusOf(allowed), 101)
    assert.equal(headerOf(allowed, 'sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')

    const anonymous = await rawRequest(tg.proxyPort, head(null))
    assert.equal(statusOf(anonymous), 407)
    assert.equal(headerOf(anonymous, 'tollgate-error'), 'TOLLGATE_AUTH_REQUIRED')
  })

  test('h2c and other upgrade protocols are refused even where websockets are allowed', async () => {
    const response = await rawRequest(
      tg.proxyPort,
      `GET http://127.0.0.1:${wsPort}/ws/x HTTP/1.1\r\nHost: 127.0.0.1:${wsPort}\r\n` +
        `Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n` +
        `Proxy-Authorization: ${basicAuth('bot', token)}\r\n\r\n`,
    )
    assert.equal(statusOf(response), 403)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_UPGRADE_DENIED')
  })

  test('upgrades are recorded in the audit trail with their outcome', async () => {
    // Completion events are written when the joined sockets close, just after the client.
    const completed = () =>
      tg.auditEvents().some((e) => e.type === 'request.completed' && e.status === 101)
    const refused = () => tg.auditEvents().some((e) => e.code === 'TOLLGATE_UPGRADE_DENIED')
    await waitFor(() => completed() && refused(), 'a completed and a refused upgrade')
    assert.ok(completed() && refused())
  })
})
