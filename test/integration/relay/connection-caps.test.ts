import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { metricValue, openClient, waitForMetric, type SocketClient } from './socket-client.js'

const WAITING = 'tollgate_unauthenticated_connections'

const POLICY = (port: number) => `
people: [{ email: alice@example.com, teams: [platform] }]
agents: [{ name: bot, owner: alice@example.com, team: platform, policies: [open] }]
policies:
  - name: open
    rules:
      - name: all
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${port}]
`

function get(port: number, auth: string): string {
  const target = `127.0.0.1:${port}`
  return `GET http://${target}/x HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n`
}

describe('unauthenticated connections: a flood of idle sockets cannot lock others out', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let auth: string
  const clients: SocketClient[] = []
  const open = async (from?: string) => {
    const client = await openClient(tg.proxyPort, from)
    clients.push(client)
    return client
  }

  before(async () => {
    upstream = await startEchoUpstream()
    tg = await startTollgate(
      POLICY(upstream.port),
      {},
      '  limits: { connections: 50, unauthenticatedConnections: 6, unauthenticatedPerAddress: 4 }\n',
    )
    auth = basicAuth('bot', tg.issueToken('bot').token)
  })

  after(async () => {
    for (const client of clients) client.socket.destroy()
    await tg.stop()
    await upstream.close()
  })

  test('past its per-address cap a source gets 503 TOLLGATE_OVERLOADED; others are served', async () => {
    for (let i = 0; i < 4; i++) await open('127.0.0.2')
    assert.equal(await waitForMetric(tg.controlPort, WAITING, (n) => n === 4), 4)

    const fifth = await open('127.0.0.2')
    fifth.socket.write(get(upstream.port, auth))
    const refused = await fifth.response()
    assert.equal(statusOf(refused), 503)
    assert.equal(headerOf(refused, 'tollgate-error'), 'TOLLGATE_OVERLOADED')
    assert.match(refused, /"code":"TOLLGATE_OVERLOADED"/)

    const other = await open('127.0.0.1')
    other.socket.write(get(upstream.port, auth))
    assert.equal(statusOf(await other.response()), 200)
    assert.ok((await metricValue(tg.controlPort, shed('address_cap'))) >= 1)
  })

  test('a refused request is in the audit trail with its code', async () => {
    const overloaded = () =>
      tg.auditEvents().filter((e) => e.code === 'TOLLGATE_OVERLOADED' && e.status === 503)
    await waitFor(() => overloaded().length === 1, 'one audit event for the 503')
    assert.equal(overloaded()[0]?.type, 'request.rejected')
    assert.equal(overloaded()[0]?.client, '127.0.0.2')
  })

  test('an authenticated connection no longer counts as waiting', async () => {
    const count = await metricValue(tg.controlPort, WAITING)
    assert.equal(count, 4, 'only the idle sockets of 127.0.0.2')
  })

  test('when every unauthenticated place is taken, the longest waiting socket makes room', async () => {
    const oldest = clients[0]
    assert.ok(oldest && !oldest.isClosed())
    await open('127.0.0.3')
    await open('127.0.0.3')
    assert.equal(await waitForMetric(tg.controlPort, WAITING, (n) => n === 6), 6)

    const newcomer = await open('127.0.0.4')
    newcomer.socket.write(get(upstream.port, auth))
    assert.equal(statusOf(await newcomer.response()), 200)
    await waitFor(() => oldest.isClosed(), 'the oldest idle socket closed')
    assert.ok((await metricValue(tg.controlPort, shed('evicted'))) >= 1)
    // The newcomer took the evicted socket's place, then authenticated and left the count.
    assert.equal(await metricValue(tg.controlPort, WAITING), 5)
  })
})

describe('the process-wide connection cap', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let auth: string
  const clients: SocketClient[] = []

  before(async () => {
    upstream = await startEchoUpstream()
    tg = await startTollgate(
      POLICY(upstream.port),
      {},
      '  limits: { connections: 3, unauthenticatedConnections: 3, unauthenticatedPerAddress: 3 }\n',
    )
    auth = basicAuth('bot', tg.issueToken('bot').token)
  })

  after(async () => {
    for (const client of clients) client.socket.destroy()
    await tg.stop()
    await upstream.close()
  })

  test('past the cap a request gets 503, a CONNECT too; a freed place is usable again', async () => {
    for (let i = 0; i < 3; i++) {
      const client = await openClient(tg.proxyPort)
      clients.push(client)
      client.socket.write(get(upstream.port, auth))
      assert.equal(statusOf(await client.response()), 200)
    }

    const extra = await openClient(tg.proxyPort)
    extra.socket.write(get(upstream.port, auth))
    const refused = await extra.response()
    assert.equal(statusOf(refused), 503)
    assert.equal(headerOf(refused, 'tollgate-error'), 'TOLLGATE_OVERLOADED')

    const tunnel = await openClient(tg.proxyPort)
    const target = `127.0.0.1:${upstream.port}`
    tunnel.socket.write(
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n`,
    )
    const connectRefused = await tunnel.response()
    assert.equal(statusOf(connectRefused), 503)
    assert.equal(headerOf(connectRefused, 'tollgate-error'), 'TOLLGATE_OVERLOADED')
    assert.ok((await metricValue(tg.controlPort, shed('process_cap'))) >= 2)

    clients.shift()?.socket.destroy()
    // The relay learns of the close asynchronously: retry a bounded number of times.
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const again = await openClient(tg.proxyPort)
      again.socket.write(get(upstream.port, auth))
      status = statusOf(await again.response())
      if (status === 200) clients.push(again)
      else again.socket.destroy()
    }
    assert.equal(status, 200)
  })

  test('the open connections gauge counts what is held', async () => {
    assert.equal(await metricValue(tg.controlPort, 'tollgate_open_connections'), 3)
  })
})

function shed(reason: string): string {
  return `tollgate_connections_shed_total{reason="${reason}"}`
}
