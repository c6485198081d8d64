import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { curl } from '../../helpers/curl.js'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import { relayTestConfig, SECRETS } from './policy-config.js'

/** Opens a CONNECT tunnel by hand and starts TLS inside it, trusting the relay's CA. */
async function openTunnel(proxyPort: number, target: string, auth: string, ca: string) {
  const raw: Socket = netConnect(proxyPort, '127.0.0.1')
  raw.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n`)
  const reply = await new Promise<string>((resolve) =>
    raw.once('data', (d) => resolve(d.toString())),
  )
  assert.match(reply, /^HTTP\/1.1 200/)
  const secure: TLSSocket = tlsConnect({ socket: raw, ca, host: target.split(':')[0] ?? '' })
  // The relay may cut these sockets on purpose (revocation); that is not a test failure.
  raw.on('error', () => undefined)
  secure.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve)
    secure.once('error', reject)
  })
  return { raw, secure }
}

function exchange(secure: TLSSocket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const onData = (d: Buffer) => {
      text += d.toString()
      const [head = '', body = ''] = text.split('\r\n\r\n')
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? -1)
      if (length >= 0 && Buffer.byteLength(body) >= length) {
        secure.off('data', onData)
        resolve(text)
      }
    }
    secure.on('data', onData)
    secure.write(request)
  })
}

describe('CONNECT tunnels with TLS interception', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let token: string
  let tokenId: string
  const target = () => `https://127.0.0.1:${https.port}`

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(relayTestConfig(http.port, https.port), {
      'upstream-ca.pem': tls.caPem,
    })
    for (const [name, value] of Object.entries(SECRETS)) tg.setSecret(name, value)
    ;({ token, id: tokenId } = tg.issueToken('bot'))
  })

  after(async () => {
    await tg.stop()
    await http.close()
    await https.close()
  })

  test('a client that does not trust the relay CA leaves a tunnel.tls_failed event', async () => {
    const host = `127.0.0.1:${https.port}`
    const raw: Socket = netConnect(tg.proxyPort, '127.0.0.1')
    raw.on('error', () => undefined)
    raw.write(
      `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n` +
        `Proxy-Authorization: ${basicAuth('bot', token)}\r\n\r\n`,
    )
    const reply = await new Promise<string>((resolve) =>
      raw.once('data', (d) => resolve(d.toString())),
    )
    assert.match(reply, /^HTTP\/1.1 200/)
    // No `ca`: the client refuses the relay's certificate and sends an alert.
    const secure = tlsConnect({ socket: raw, host: '127.0.0.1', servername: 'localhost' })
    const failure = await new Promise<Error>((resolve) => secure.once('error', resolve))
    assert.match(String((failure as { code?: string }).code), /CERT|SIGNATURE|ISSUER/)

    const failed = () => tg.auditEvents().filter((e) => e.type === 'tunnel.tls_failed')
    await waitFor(() => failed().length > 0, 'the handshake failure on record')
    const event = failed()[0]
    assert.equal(event?.agent, 'bot')
    assert.equal(event?.token_id, tokenId)
    assert.equal(event?.host, '127.0.0.1')
    assert.equal(event?.port, https.port)
    assert.equal(event?.decision, 'error')
    assert.equal(typeof event?.detail?.['reason'], 'string')
  })

  test('curl trusts the relay CA, the request is decided inside the tunnel and injected', async () => {
    const res = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '--cacert',
      tg.caFile,
      `${target()}/api/x`,
    ])
    assert.equal(res.status, 200, res.stderr)
    assert.equal(https.received.at(-1)?.headers['x-api-key'], SECRETS['header-secret'])
    assert.ok(!res.body.includes(SECRETS['header-secret']), 'echoed secret scrubbed')
  })

  test('keep-alive inside one tunnel: one request allowed, the next denied', async () => {
    const res = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '--cacert',
      tg.caFile,
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{num_connects}\\n',
      `${target()}/api/ok`,
      `${target()}/admin/secret`,
    ])
    const everything = Object.entries(res.headers).join('\n') + '\n' + res.body
    const codes = [...everything.matchAll(/^(\d{3}) (\d+)$/gm)].map((m) => [m[1], m[2]])
    assert.deepEqual(
      codes.map((c) => c[0]),
      ['200', '403'],
    )
    assert.equal(codes[1]?.[1], '0', 'the second request reused the tunnel')
  })

  test('a CONNECT to a host no rule allows is refused before any TLS', async () => {
    const res = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '--cacert',
      tg.caFile,
      'https://127.0.0.1:1/',
    ])
    assert.notEqual(res.exitCode, 0)
    assert.match(res.stderr, /403/)
  })

  test('pipelined requests in a tunnel are each decided, and a wrong Host is 421', async () => {
    const { secure } = await openTunnel(
      tg.proxyPort,
      `127.0.0.1:${https.port}`,
      basicAuth('bot', token),
      tg.caPem,
    )
    const host = `127.0.0.1:${https.port}`
    const ok = await exchange(secure, `GET /api/a HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    assert.match(ok, /^HTTP\/1.1 200/)
    const denied = await exchange(secure, `GET /admin/a HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    assert.match(denied, /^HTTP\/1.1 403/)
    const wrong = await exchange(secure, `GET /api/a HTTP/1.1\r\nHost: other.test\r\n\r\n`)
    assert.match(wrong, /^HTTP\/1.1 421/)
    secure.destroy()
  })

  test('two pipelined requests in one write are decided separately', async () => {
    const { secure } = await openTunnel(
      tg.proxyPort,
      `127.0.0.1:${https.port}`,
      basicAuth('bot', token),
      tg.caPem,
    )
    const host = `127.0.0.1:${https.port}`
    let text = ''
    secure.on('data', (d: Buffer) => (text += d.toString()))
    secure.write(
      `GET /api/one HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /admin/two HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    )
    await waitFor(() => (text.match(/HTTP\/1.1 \d{3}/g) ?? []).length >= 2, 'two responses')
    const statuses = (text.match(/HTTP\/1.1 \d{3}/g) ?? []).map((l) => l.slice(9))
    assert.deepEqual(statuses, ['200', '403'])
    secure.destroy()
  })

  test('revoking the token cuts an open tunnel at once', async () => {
    const fresh = tg.issueToken('bot')
    const { raw, secure } = await openTunnel(
      tg.proxyPort,
      `127.0.0.1:${https.port}`,
      basicAuth('bot', fresh.token),
      tg.caPem,
    )
    const ok = await exchange(
      secure,
      `GET /api/a HTTP/1.1\r\nHost: 127.0.0.1:${https.port}\r\n\r\n`,
    )
    assert.match(ok, /^HTTP\/1.1 200/)

    let closed = false
    raw.once('close', () => (closed = true))
    // The CLI revokes from another process; a second connection to the store stands in for it.
    assert.equal(new TokenStore(tg.db).revoke(fresh.id), true)
    await waitFor(() => closed, 'the tunnel to close after revocation')
    assert.ok(tokenId)
  })

  test('server-sent events flow as they arrive, not when the stream ends', async () => {
    const { sseGate } = await import('../../helpers/echo-upstream.js')
    sseGate.open = false
    const raw = netConnect(tg.proxyPort, '127.0.0.1')
    raw.write(
      `GET http://127.0.0.1:${http.port}/sse HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n` +
        `Proxy-Authorization: ${basicAuth('bot', token)}\r\n\r\n`,
    )
    let text = ''
    raw.on('data', (d: Buffer) => (text += d.toString()))
    await waitFor(() => text.includes('data: first'), 'the first event before the stream ends')
    assert.ok(!text.includes('data: second'))
    sseGate.open = true
    await waitFor(() => text.includes('data: second'), 'the second event')
    raw.destroy()
  })
})
