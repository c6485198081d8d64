import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { curl, type CurlResult } from '../../helpers/curl.js'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startDnsServer, type DnsServer } from '../../helpers/dns-server.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'

/** A loopback upstream that records which paths reached it and closes every connection. */
interface Recorder {
  server: Server
  hits: string[]
}

// `Connection: close` on every answer: each relayed request opens (and checks) a new connection.
async function listenRecorder(host: string, port: number, name: string): Promise<Recorder> {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(req.url ?? '')
    res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' })
    res.end(name)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return { server, hits }
}

function config(port: number): string {
  const rule = (name: string, hosts: string, extra = '') => `
      - name: ${name}
        schemes: [http]
        hosts: ${hosts}
        ports: [${port}]${extra}`
  return `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [named] }
  - { name: wild, owner: alice@example.com, team: platform, policies: [anything] }
policies:
  - name: named
    rules:${rule('internal', '["internal.test", "mixed.test", "v6.test"]', '\n        websocket: true')}${rule(
      'internal-ok',
      '["internal-ok.test", "rebind.test", "mixed-ok.test"]',
      '\n        addresses: ["127.0.0.1/32"]',
    )}${rule('literal', '["127.0.0.1"]')}
  - name: anything
    rules:${rule('any-host', '["*"]')}
`
}

describe('destination addresses: resolve once, check every answer, dial what was checked', () => {
  let dns: DnsServer
  let upstream: Recorder
  let sentinel: Recorder
  let port: number
  let tg: Harness
  let bot: string
  let botToken: string
  let wild: string

  before(async () => {
    dns = await startDnsServer()
    upstream = await listenRecorder('127.0.0.1', 0, 'upstream')
    port = (upstream.server.address() as AddressInfo).port
    // Same port on another loopback address: where a rebound or fallen-back connection would land.
    sentinel = await listenRecorder('127.0.0.2', port, 'sentinel')
    const dnsExtra = `  dns: { servers: ["${dns.address}"] }\n`
    tg = await startTollgate(config(port), {}, dnsExtra)
    botToken = tg.issueToken('bot').token
    bot = tg.proxyUrl('bot', botToken)
    wild = tg.proxyUrl('wild', tg.issueToken('wild').token)
  })

  after(async () => {
    await tg.stop()
    for (const r of [upstream, sentinel]) {
      r.server.closeAllConnections()
      await new Promise((resolve) => r.server.close(resolve))
    }
    await dns.close()
  })

  const via = (proxy: string, url: string): Promise<CurlResult> =>
    curl(['-x', proxy, '-H', 'Connection: close', url])

  function assertForbidden(res: CurlResult): void {
    assert.equal(res.status, 403, res.body)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_DESTINATION_FORBIDDEN')
    assert.equal(
      (JSON.parse(res.body) as { error: { code: string } }).error.code,
      'TOLLGATE_DESTINATION_FORBIDDEN',
    )
  }

  test('a name that resolves to loopback is refused when the rule allows no addresses', async () => {
    dns.set('internal.test', ['127.0.0.1'])
    const res = await via(bot, `http://internal.test:${port}/refused`)

    assertForbidden(res)
    assert.ok(dns.queries('internal.test') > 0, 'the relay asked the configured DNS server')
    assert.deepEqual(upstream.hits, [])
    const refused = () => tg.auditEvents().find((e) => e.code === 'TOLLGATE_DESTINATION_FORBIDDEN')
    await waitFor(() => refused() !== undefined, 'the audit event of the refusal')
    const event = refused()
    assert.equal(event?.host, 'internal.test')
    assert.equal(event?.decision, 'deny')
    assert.equal(event?.upstream_error, 'loopback 127.0.0.1')
  })

  test('the same answer passes when the rule lists the address in `addresses`', async () => {
    dns.set('internal-ok.test', ['127.0.0.1'])
    const res = await via(bot, `http://internal-ok.test:${port}/allowed`)

    assert.equal(res.status, 200)
    assert.equal(res.body, 'upstream')
    assert.deepEqual(upstream.hits, ['/allowed'])
  })

  test('rebinding: an answer that flips to a forbidden address is refused on the next connection', async () => {
    dns.set('rebind.test', ['127.0.0.1'])
    const first = await via(bot, `http://rebind.test:${port}/first`)
    assert.equal(first.status, 200)

    dns.set('rebind.test', ['127.0.0.2'])
    const second = await via(bot, `http://rebind.test:${port}/second`)
    assertForbidden(second)
    assert.deepEqual(sentinel.hits, [])
    assert.ok(upstream.hits.includes('/first'))
    assert.ok(!upstream.hits.includes('/second'))
  })

  test('an answer mixing an allowed and a forbidden address is refused, in either order', async () => {
    for (const answer of [
      ['127.0.0.1', '127.0.0.2'],
      ['127.0.0.2', '127.0.0.1'],
    ]) {
      dns.set('mixed-ok.test', answer)
      assertForbidden(await via(bot, `http://mixed-ok.test:${port}/mixed`))
    }
    dns.set('mixed.test', ['93.184.215.14', '127.0.0.1'])
    assertForbidden(await via(bot, `http://mixed.test:${port}/mixed`))
    assert.ok(!upstream.hits.includes('/mixed'))
    assert.deepEqual(sentinel.hits, [])
  })

  test('a WebSocket upgrade to a forbidden address is refused the same way', async () => {
    dns.set('internal.test', ['127.0.0.1'])
    const response = await rawRequest(
      tg.proxyPort,
      `GET http://internal.test:${port}/ws HTTP/1.1\r\nHost: internal.test:${port}\r\n` +
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        `Proxy-Authorization: ${basicAuth('bot', botToken)}\r\n\r\n`,
    )
    assert.equal(statusOf(response), 403)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_DESTINATION_FORBIDDEN')
    assert.ok(!upstream.hits.includes('/ws'))
  })

  test('an IPv6 loopback answer is refused', async () => {
    dns.set('v6.test', ['::1'])
    assertForbidden(await via(bot, `http://v6.test:${port}/v6`))
  })

  test('IP-literal hosts are checked as the addresses they are under a host-name rule', async () => {
    const literals = [
      '127.0.0.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::127.0.0.1]',
      '[64:ff9b::7f00:1]',
      '[2002:7f00:1::]',
      '169.254.169.254',
      '[fd00:ec2::254]',
      '10.1.2.3',
    ]
    for (const host of literals) {
      const res = await via(wild, `http://${host}:${port}/literal`)
      assertForbidden(res)
    }
    assert.deepEqual(
      upstream.hits.filter((hit) => hit === '/literal'),
      [],
    )
  })

  test('a rule naming an IP literal still reaches it', async () => {
    const res = await via(bot, `http://127.0.0.1:${port}/by-literal`)
    assert.equal(res.status, 200)
    assert.ok(upstream.hits.includes('/by-literal'))
  })

  test('an unknown name is an upstream connect failure, not a destination refusal', async () => {
    const res = await via(wild, `http://nowhere.test:${port}/x`)
    assert.equal(res.status, 502)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_UPSTREAM_CONNECT')
  })
})
