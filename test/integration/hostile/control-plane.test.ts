import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { loadConfigFile } from '../../../src/config/load.js'
import { SandboxClient } from '../../../src/control-plane/sandbox-client.js'
import { controlSocketPath } from '../../../src/control-plane/sandbox-api.js'
import { NO_LIMITS } from '../../../src/sandbox/sandbox-limits.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, rawRequest } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { hostileConfig } from './hostile-config.js'
import { openTunnel, parseResponses, type WireResponse } from './wire.js'

/** Spellings of this machine an agent may try instead of `127.0.0.1`. */
const SELF_SPELLINGS = [
  '127.0.0.1',
  'localhost',
  'localhost.',
  '127.0.0.2',
  '127.1',
  '2130706433',
  '0x7f000001',
  '017700000001',
  '0.0.0.0',
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::ffff:127.0.0.1]',
  '[::]',
]

/** A broad rule an operator might write: any host, on the ports the relay itself listens on. */
function anyHostOn(ports: number[]): string {
  return `      - name: any-host
        schemes: [http, https]
        hosts: ["*"]
        ports: [${ports.join(', ')}]
`
}

/** An explicit loopback grant naming the control port. */
function loopbackGrant(port: number): string {
  return `      - name: loopback-grant
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${port}]
`
}

describe('hostile agent: the control plane is out of reach', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let token: string
  let ports: { http: number; https: number }
  let auth: string

  const metricsVia = (host: string, port: number) =>
    `GET http://${host}:${port}/metrics HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
    `${auth}Connection: close\r\n\r\n`
  const send = async (port: number, bytes: string): Promise<WireResponse> => {
    const text = await rawRequest(port, bytes)
    const [response] = parseResponses(text)
    assert.ok(response, `a whole response, got ${JSON.stringify(text.slice(0, 200))}`)
    return response
  }
  const applyRules = async (rules: string) => {
    const config = readFileSync(tg.configPath, 'utf8')
    const head = config.slice(0, config.indexOf('\npeople:'))
    writeFileSync(tg.configPath, head + hostileConfig(ports, rules))
    await tg.service.applyConfig(loadConfigFile(tg.configPath))
  }

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    ports = { http: http.port, https: https.port }
    tg = await startTollgate(hostileConfig(ports), { 'upstream-ca.pem': tls.caPem })
    token = tg.issueToken('bot').token
    auth = `Proxy-Authorization: ${basicAuth('bot', token)}\r\n`
    // The relay's ports are known only once it listens: the broad rule comes in by reload.
    await applyRules(anyHostOn([tg.controlPort, tg.proxyPort, tg.reversePort]))
  })

  after(async () => {
    await tg.stop()
    await http.close()
    await https.close()
  })

  test('the control, proxy and reverse ports are refused under every spelling of this host', async () => {
    for (const port of [tg.controlPort, tg.proxyPort, tg.reversePort]) {
      for (const host of SELF_SPELLINGS) {
        const response = await send(tg.proxyPort, metricsVia(host, port))
        const what = `${host}:${port}`
        assert.equal(response.status, 403, what)
        assert.equal(response.headers['tollgate-error'], 'TOLLGATE_DESTINATION_FORBIDDEN', what)
        assert.ok(!response.body.includes('tollgate_'), `${what}: no metrics in the answer`)

        const id = response.headers['tollgate-request-id']
        const event = () =>
          tg.auditEvents().find((e) => e.request_id === id && e.type === 'request.completed')
        await waitFor(() => event() !== undefined, `${what} on record`)
        assert.match(event()?.upstream_error ?? '', /^(loopback|unspecified) /, what)
      }
    }
  })

  test('a CONNECT to the control port opens a tunnel whose requests are refused the same way', async () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0']) {
      const tunnel = await openTunnel(tg.proxyPort, `${host}:${tg.controlPort}`, auth, tg.caPem)
      tunnel.send(`GET /metrics HTTP/1.1\r\nHost: ${host}:${tg.controlPort}\r\n\r\n`)
      const response = await tunnel.response(1)
      tunnel.destroy()
      assert.equal(response.status, 403, host)
      assert.equal(response.headers['tollgate-error'], 'TOLLGATE_DESTINATION_FORBIDDEN', host)
      assert.ok(!response.body.includes('tollgate_'), host)
    }
  })

  test('only an explicit loopback grant naming the control port opens it (documented)', async () => {
    const relayPorts = [tg.controlPort, tg.proxyPort, tg.reversePort]
    await applyRules(loopbackGrant(tg.controlPort) + anyHostOn(relayPorts))
    try {
      const granted = await send(tg.proxyPort, metricsVia('127.0.0.1', tg.controlPort))
      assert.equal(granted.status, 200)
      assert.match(granted.body, /^tollgate_requests_total\{/m)
      // The grant names the literal: another spelling of the same address is still refused.
      const named = await send(tg.proxyPort, metricsVia('localhost', tg.controlPort))
      assert.equal(named.headers['tollgate-error'], 'TOLLGATE_DESTINATION_FORBIDDEN')
    } finally {
      await applyRules(anyHostOn(relayPorts))
    }
  })

  test('the control listener serves GET /healthz and GET /metrics, and nothing of the sandbox API', async () => {
    const control = (method: string, path: string) =>
      send(
        tg.controlPort,
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
      )
    const health = await control('GET', '/healthz')
    assert.equal(health.status, 200)
    assert.deepEqual(Object.keys(JSON.parse(health.body) as object), ['status', 'config_version'])
    const metrics = await control('GET', '/metrics?x=1')
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers['content-type'] ?? '', /^text\/plain/)

    const refused: Array<[string, string]> = [
      ['GET', '/sandboxes'],
      ['POST', '/sandboxes'],
      ['DELETE', '/sandboxes/sbx_0123456789abcdef'],
      ['POST', '/metrics'],
      ['DELETE', '/healthz'],
      ['GET', '/'],
      ['GET', '//metrics'],
      ['GET', 'http://127.0.0.1/metrics'],
    ]
    for (const [method, path] of refused) {
      const response = await control(method, path)
      assert.equal(response.status, 404, `${method} ${path}`)
      assert.equal(response.body, '{"error":"not found"}', `${method} ${path}`)
    }
  })

  test('the sandbox API is a 0600 socket in a 0700 state directory', () => {
    assert.equal(statSync(tg.stateDir).mode & 0o777, 0o700)
    const socket = statSync(controlSocketPath(tg.stateDir))
    assert.ok(socket.isSocket())
    assert.equal(socket.mode & 0o777, 0o600)
  })

  test("a sandbox's listener ignores Proxy-Authorization: it never acts as another agent", async () => {
    const sandboxes = new SandboxClient(tg.stateDir)
    const box = await sandboxes.start('bot', ['true'], NO_LIMITS, { seccomp: false })
    try {
      assert.equal(statSync(box.socket).mode & 0o777, 0o600)
      const other = tg.issueToken('other').token
      const asOther = `Proxy-Authorization: ${basicAuth('other', other)}\r\n`
      const viaBox = async (path: string) => {
        const text = await unixRequest(
          box.socket,
          `GET http://127.0.0.1:${http.port}${path} HTTP/1.1\r\n` +
            `Host: 127.0.0.1:${http.port}\r\n${asOther}Connection: close\r\n\r\n`,
        )
        const [response] = parseResponses(text)
        assert.ok(response, text)
        return response
      }
      const refused = await viaBox('/other/x')
      assert.equal(refused.headers['tollgate-error'], 'TOLLGATE_POLICY_NO_MATCH')
      const allowed = await viaBox('/open/from-box')
      assert.equal(allowed.status, 200)
      assert.equal(http.received.at(-1)?.headers['proxy-authorization'], undefined)

      const events = tg.auditEvents().filter((e) => e.sandbox_id === box.id && e.request_id)
      assert.ok(events.length >= 2)
      for (const event of events) {
        assert.equal(event.agent, 'bot')
        assert.equal(event.token_id, null)
      }
    } finally {
      await sandboxes.stop(box.id)
    }
  })
})

/** Sends raw bytes over a UNIX socket and returns what came back once the peer closed. */
function unixRequest(path: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(path)
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.write(bytes)
  })
}
