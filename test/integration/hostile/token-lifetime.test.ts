import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { loadConfigFile } from '../../../src/config/load.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { hostileConfig } from './hostile-config.js'
import { openPlain, openTunnel, type WireClient } from './wire.js'

/** Long enough to open a connection and a tunnel and use each once on a busy machine. */
const SHORT_TTL_MS = 2500

describe('hostile agent: a token stops working on open connections and tunnels', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  const open: WireClient[] = []

  const auth = (agent: string, token: string) =>
    `Proxy-Authorization: ${basicAuth(agent, token)}\r\n`
  const plainGet = (path: string, lines: string) =>
    `GET http://127.0.0.1:${http.port}${path} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${http.port}\r\n${lines}\r\n`
  const innerGet = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${https.port}\r\n\r\n`
  const tunnelAs = async (lines: string) => {
    const client = await openTunnel(tg.proxyPort, `127.0.0.1:${https.port}`, lines, tg.caPem)
    open.push(client)
    return client
  }
  const plainAs = async () => {
    const client = await openPlain(tg.proxyPort)
    open.push(client)
    return client
  }

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    const body = hostileConfig({ http: http.port, https: https.port })
    tg = await startTollgate(
      body,
      { 'upstream-ca.pem': tls.caPem },
      '  limits: { tunnelsPerAgent: 2 }\n',
    )
  })

  after(async () => {
    for (const client of open) client.destroy()
    await tg.stop()
    await http.close()
    await https.close()
  })

  test('an expired token is refused at the next request of its keep-alive connection and tunnel', async () => {
    const expiresAt = Date.now() + SHORT_TTL_MS
    const { token, id } = tg.issueToken('bot', SHORT_TTL_MS)
    const plain = await plainAs()
    plain.send(plainGet('/open/first', auth('bot', token)))
    const tunnel = await tunnelAs(auth('bot', token))
    tunnel.send(innerGet('/open/first'))
    assert.equal((await plain.response(1)).status, 200)
    assert.equal((await tunnel.response(1)).status, 200)
    assert.ok(Date.now() < expiresAt, 'both were used before the token expired')

    await waitFor(() => Date.now() > expiresAt + 10, 'the token to expire', SHORT_TTL_MS + 5000)
    const reached = { http: http.received.length, https: https.received.length }
    plain.send(plainGet('/open/second', auth('bot', token)))
    tunnel.send(innerGet('/open/second'))
    const plainRefusal = await plain.response(2)
    const tunnelRefusal = await tunnel.response(2)

    for (const refusal of [plainRefusal, tunnelRefusal]) {
      assert.equal(refusal.status, 407)
      assert.equal(refusal.headers['tollgate-error'], 'TOLLGATE_AUTH_INVALID')
    }
    await plain.closed()
    await tunnel.closed()
    assert.deepEqual({ http: http.received.length, https: https.received.length }, reached)

    // Inside the tunnel the caller was known: the refusal names it.
    const requestId = tunnelRefusal.headers['tollgate-request-id']
    const event = () => tg.auditEvents().find((e) => e.request_id === requestId)
    await waitFor(() => event() !== undefined, 'the tunnel refusal on record')
    assert.equal(event()?.type, 'auth.failed')
    assert.equal(event()?.agent, 'bot')
    assert.equal(event()?.token_id, id)
  })

  test('a revoked token loses its open keep-alive connection, and is refused on a new one', async () => {
    const { token, id } = tg.issueToken('bot')
    const plain = await plainAs()
    plain.send(plainGet('/open/before-revoke', auth('bot', token)))
    assert.equal((await plain.response(1)).status, 200)

    // The CLI revokes from another process; a second connection to the store stands in for it.
    assert.equal(new TokenStore(tg.db).revoke(id), true)
    await plain.closed()

    const again = await plainAs()
    again.send(plainGet('/open/after-revoke', auth('bot', token)))
    const refusal = await again.response(1)
    assert.equal(refusal.status, 407)
    assert.equal(refusal.headers['tollgate-error'], 'TOLLGATE_AUTH_INVALID')
    assert.ok(!http.received.some((r) => r.url === '/open/after-revoke'))
  })

  test('an agent removed from the config loses its connections, and its token is refused', async () => {
    const { token } = tg.issueToken('other')
    const plain = await plainAs()
    plain.send(plainGet('/other/x', auth('other', token)))
    assert.equal((await plain.response(1)).status, 200)

    const config = readFileSync(tg.configPath, 'utf8')
    const without = config.replace(/ {2}- name: other\n(?: {4}.*\n)+/, '')
    assert.notEqual(without, config)
    writeFileSync(tg.configPath, without)
    await tg.service.applyConfig(loadConfigFile(tg.configPath))
    await plain.closed()

    const again = await plainAs()
    again.send(plainGet('/other/x', auth('other', token)))
    const refusal = await again.response(1)
    assert.equal(refusal.status, 407)
    assert.equal(refusal.headers['tollgate-error'], 'TOLLGATE_AUTH_INVALID')
  })

  test('a CONNECT on a connection that already made a request counts towards tunnelsPerAgent', async () => {
    const { token } = tg.issueToken('bot')
    const answers: number[] = []
    // The cap is 2: the third and fourth CONNECT must be refused.
    for (let i = 0; i < 4; i++) {
      const client = await plainAs()
      client.send(plainGet('/open/warm-up', auth('bot', token)))
      assert.equal((await client.response(1)).status, 200)
      const target = `127.0.0.1:${https.port}`
      client.send(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth('bot', token)}\r\n`)
      answers.push((await client.response(2)).status)
    }
    assert.deepEqual(answers, [200, 200, 429, 429])
  })
})
