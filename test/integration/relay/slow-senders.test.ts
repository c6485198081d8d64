import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { metricValue, openClient, trickle, type SocketClient } from './socket-client.js'

/**
 * Slowloris on the head and on the body. The relay's timeouts are short here so the tests end
 * quickly; nothing asserts how long a cut took, only that it came and what it said.
 */
describe('slow senders are cut, with a 408 where a response is still possible', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let target: string
  const auth: Record<string, string> = {}
  const clients: SocketClient[] = []
  const stops: Array<() => void> = []
  const open = async () => {
    const client = await openClient(tg.proxyPort)
    clients.push(client)
    return client
  }

  before(async () => {
    upstream = await startEchoUpstream()
    target = `127.0.0.1:${upstream.port}`
    tg = await startTollgate(
      `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
  - { name: other, owner: alice@example.com, team: platform, policies: [open] }
policies:
  - name: open
    rules:
      - name: all
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${upstream.port}]
`,
      {},
      '  timeouts: { connect: 5s, headers: 1s, body: 10s, idle: 30s, requestBodyIdle: 300ms, request: 3s }\n' +
        '  limits: { connectionsPerAgent: 3 }\n',
    )
    for (const agent of ['bot', 'other']) auth[agent] = basicAuth(agent, tg.issueToken(agent).token)
  })

  after(async () => {
    for (const stop of stops) stop()
    for (const client of clients) client.socket.destroy()
    await tg.stop()
    await upstream.close()
  })

  const head = (agent: string, method = 'GET', extra = '') =>
    `${method} http://${target}/x HTTP/1.1\r\nHost: ${target}\r\n` +
    `Proxy-Authorization: ${auth[agent] ?? ''}\r\n${extra}\r\n`
  const post = (agent: string, length: number) =>
    head(agent, 'POST', `Content-Length: ${length}\r\n`)
  const timeouts = () => tg.auditEvents().filter((e) => e.code === 'TOLLGATE_REQUEST_TIMEOUT')

  test('a socket that never sends a byte is closed without an audit event', async () => {
    const idle = await open()
    await waitFor(() => idle.isClosed(), 'the idle socket closed')
    assert.equal(idle.received(), '', 'nothing is answered to no request')

    // A slow head now: once its event is in the trail, an event for the idle socket would be.
    const slow = await open()
    stops.push(trickle(slow, head('bot'), 100))
    const response = await slow.response('a 408 for the slow head')
    assert.equal(statusOf(response), 408)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_REQUEST_TIMEOUT')
    await waitFor(() => timeouts().length > 0, 'the slow head audited')
    assert.equal(timeouts().length, 1, 'one event: the slow head, not the idle socket')
    assert.equal(timeouts()[0]?.type, 'request.rejected')
  })

  test('a body that stalls is answered 408 and recorded for its agent', async () => {
    const client = await open()
    client.socket.write(post('bot', 100) + 'only ten b')
    const response = await client.response('a 408 for the stalled body')

    assert.equal(statusOf(response), 408)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_REQUEST_TIMEOUT')
    assert.match(response, /the request body stalled/)
    await waitFor(() => client.isClosed(), 'the connection closed after the 408')
    await waitFor(() => timeouts().some((e) => e.agent === 'bot'), 'the stalled body audited')
    const event = timeouts().find((e) => e.agent === 'bot')
    assert.equal(event?.status, 408)
    assert.equal(event?.method, 'POST')
    assert.ok((await metricValue(tg.controlPort, kind('body_idle'))) >= 1)
  })

  test('a body that trickles just fast enough is still cut when the request takes too long', async () => {
    const client = await open()
    client.socket.write(post('bot', 1000))
    stops.push(trickle(client, 'x'.repeat(1000), 100))
    const response = await client.response('a 408 for the endless body')

    assert.equal(statusOf(response), 408)
    assert.match(response, /the request took too long to send/)
    assert.ok((await metricValue(tg.controlPort, kind('request'))) >= 1)
  })

  test("one agent's slow connections, up to its cap, do not starve another agent", async () => {
    const slow: SocketClient[] = []
    for (let i = 0; i < 3; i++) {
      const client = await open()
      client.socket.write(post('bot', 1000))
      stops.push(trickle(client, 'y'.repeat(1000), 100))
      slow.push(client)
    }

    // The relay counts a connection once its head is read; a fourth waits for a free place.
    let fourth = ''
    for (let attempt = 0; attempt < 50 && statusOf(fourth) !== 429; attempt++) {
      const client = await open()
      client.socket.write(head('bot'))
      fourth = await client.response()
    }
    assert.equal(statusOf(fourth), 429)
    assert.equal(headerOf(fourth, 'tollgate-error'), 'TOLLGATE_CONNECTION_LIMIT')

    const other = await open()
    other.socket.write(head('other'))
    assert.equal(statusOf(await other.response()), 200)
    assert.ok(
      slow.every((c) => !c.isClosed()),
      'the other agent was served while the slow ones held the cap',
    )

    // Once the relay cuts the slow bodies, their places are free again.
    for (const client of slow) await client.response('the slow body cut')
    let again = 0
    for (let attempt = 0; attempt < 50 && again !== 200; attempt++) {
      const client = await open()
      client.socket.write(head('bot'))
      again = statusOf(await client.response())
    }
    assert.equal(again, 200)
  })
})

function kind(name: string): string {
  return `tollgate_request_timeouts_total{kind="${name}"}`
}
