import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, rawRequest } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { hostileConfig } from './hostile-config.js'
import { openPlain, parseResponses, type WireResponse } from './wire.js'

/** An upstream that keeps every byte it is sent and never answers. */
interface Capture {
  port: number
  bytes(): string
  close(): Promise<void>
}

async function startCapture(): Promise<Capture> {
  let seen = ''
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('data', (chunk: Buffer) => (seen += chunk.toString('latin1')))
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => seen,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * An agent posting a Tollgate token in a request body. The headers, path and query are
 * checked before the decision (`proxy-credentials.test.ts`); a body streams, so it is watched
 * as it goes, and a token split across the agent's writes must not reach the upstream in part.
 */
describe('hostile agent: a token in a request body never leaves the relay', () => {
  let echo: EchoUpstream
  let capture: Capture
  let tg: Harness
  let token = ''
  let auth = ''

  before(async () => {
    echo = await startEchoUpstream()
    capture = await startCapture()
    // The shared config trusts an upstream CA file; these tests use plain HTTP only.
    const { caPem } = await createUpstreamTls()
    // Its second port (https there) is the capturing upstream's, reached over plain HTTP here.
    const config = hostileConfig({ http: echo.port, https: capture.port })
    tg = await startTollgate(config, { 'upstream-ca.pem': caPem })
    token = tg.issueToken('bot').token
    auth = `Proxy-Authorization: ${basicAuth('bot', token)}\r\n`
  })

  after(async () => {
    await tg.stop()
    await echo.close()
    await capture.close()
  })

  const post = (port: number, lines: string, body: string | Buffer) => {
    const head =
      `POST http://127.0.0.1:${port}/open/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${auth}` +
      `${lines}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`
    return Buffer.concat([Buffer.from(head), Buffer.from(body)])
  }

  const first = (text: string): WireResponse => {
    const [response] = parseResponses(text)
    assert.ok(response, `a whole response, got ${JSON.stringify(text.slice(0, 200))}`)
    return response
  }

  async function assertRefused(response: WireResponse, what: string): Promise<void> {
    assert.equal(response.status, 403, what)
    assert.equal(response.headers['tollgate-error'], 'TOLLGATE_TOKEN_EXFILTRATION', what)
    const requestId = response.headers['tollgate-request-id'] ?? ''
    const coded = () =>
      tg
        .auditEvents()
        .some((e) => e.request_id === requestId && e.code === 'TOLLGATE_TOKEN_EXFILTRATION')
    await waitFor(coded, `the audit event of ${requestId} with its code`)
  }

  test('a token in a JSON, form or gzipped body is refused before the upstream has it', async () => {
    const bodies: [string, string, string | Buffer][] = [
      ['json', 'Content-Type: application/json\r\n', JSON.stringify({ note: token })],
      ['form', 'Content-Type: application/x-www-form-urlencoded\r\n', `a=1&t=${token}`],
      ['another agent’s', '', `see ${tg.issueToken('other').token} here`],
      ['gzip', 'Content-Encoding: gzip\r\n', gzipSync(`leak=${token}`)],
    ]
    const before = echo.received.length
    for (const [what, lines, body] of bodies) {
      await assertRefused(first(await rawRequest(tg.proxyPort, post(echo.port, lines, body))), what)
    }
    assert.equal(echo.received.length, before, 'no refused body was delivered whole')
  })

  test('a token split across the agent’s writes reaches the upstream not even in part', async () => {
    const client = await openPlain(tg.proxyPort)
    client.send(
      `POST http://127.0.0.1:${capture.port}/open/x HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${capture.port}\r\n${auth}Transfer-Encoding: chunked\r\n\r\n`,
    )
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`
    client.send(chunk(`harmless start, then ${token.slice(0, 20)}`))
    // The first part is on its way up (the upstream has the harmless bytes) before the rest.
    await waitFor(() => capture.bytes().includes('harmless start'), 'the first bytes upstream')
    client.send(chunk(`${token.slice(20)} and more`) + '0\r\n\r\n')

    await assertRefused(await client.response(1), 'split token')
    assert.ok(!capture.bytes().includes('tgt_'), 'not even the start of the token went up')
    client.destroy()
  })

  test('what only looks like the start of a token is delivered whole, in order', async () => {
    const bodies = [
      `ends with a possible start tgt_${'a'.repeat(30)}`,
      `a short one tgt_abc, and tgt_${'b'.repeat(42)}!`,
      `tgt_`,
    ]
    for (const body of bodies) {
      const response = first(await rawRequest(tg.proxyPort, post(echo.port, '', body)))
      assert.equal(response.status, 200, body)
      assert.equal(echo.received.at(-1)?.body, body)
    }
  })
})
