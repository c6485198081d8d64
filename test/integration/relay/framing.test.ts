import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'

/**
 * Requests that Node's parser refuses before the relay sees them. Each must still get the
 * relay's JSON error with a stable code, reach no upstream, and leave an audit event.
 */
describe('strict framing: what the parser refuses still gets a JSON error and a record', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let auth: string
  let target: string

  before(async () => {
    upstream = await startEchoUpstream()
    tg = await startTollgate(`
people: [{ email: alice@example.com, teams: [platform] }]
agents: [{ name: bot, owner: alice@example.com, team: platform, policies: [open] }]
policies:
  - name: open
    rules:
      - name: all
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${upstream.port}]
        methods: [GET, POST]
`)
    auth = basicAuth('bot', tg.issueToken('bot').token)
    target = `127.0.0.1:${upstream.port}`
  })

  after(async () => {
    await tg.stop()
    await upstream.close()
  })

  const cases: Array<[string, (t: string, a: string) => string, string]> = [
    [
      'Content-Length and Transfer-Encoding together',
      (t, a) =>
        `POST http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'TOLLGATE_MALFORMED_REQUEST',
    ],
    [
      'two different Content-Length values',
      (t, a) =>
        `POST http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        'Content-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'TOLLGATE_MALFORMED_REQUEST',
    ],
    [
      'an obfuscated Transfer-Encoding',
      (t, a) =>
        `POST http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        'Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
      'TOLLGATE_MALFORMED_REQUEST',
    ],
    [
      'obs-fold (a header continued on the next line)',
      (t, a) =>
        `GET http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        'X-Folded: one\r\n two\r\n\r\n',
      'TOLLGATE_MALFORMED_REQUEST',
    ],
    [
      'a bare LF inside a header value',
      (t, a) =>
        `GET http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        'X-Bad: a\rb\r\n\r\n',
      'TOLLGATE_MALFORMED_REQUEST',
    ],
    [
      'a head larger than the relay accepts',
      (t, a) =>
        `GET http://${t}/x HTTP/1.1\r\nHost: ${t}\r\nProxy-Authorization: ${a}\r\n` +
        `X-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
      'TOLLGATE_HEADERS_TOO_LARGE',
    ],
  ]

  for (const [name, build, code] of cases) {
    test(`${name} → ${code}`, async () => {
      const before = upstream.received.length
      const response = await rawRequest(tg.proxyPort, build(target, auth))
      assert.equal(headerOf(response, 'tollgate-error'), code, response.slice(0, 200))
      assert.ok(statusOf(response) >= 400 && statusOf(response) < 500)
      assert.match(response, /"code":"TOLLGATE_/)
      assert.equal(upstream.received.length, before, 'nothing reached the upstream')
    })
  }

  test('a missing Host header is answered by the relay, not by Node', async () => {
    const response = await rawRequest(
      tg.proxyPort,
      `GET http://${target}/x HTTP/1.1\r\nProxy-Authorization: ${auth}\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(statusOf(response), 200)
  })

  test('every refusal above is in the audit trail as malformed', async () => {
    const malformed = () =>
      tg.auditEvents().filter((e) => e.type === 'request.rejected' && e.decision === 'malformed')
    await waitFor(() => malformed().length >= cases.length, 'one audit event per refusal')
    assert.ok(malformed().some((e) => e.code === 'TOLLGATE_HEADERS_TOO_LARGE'))
  })
})
