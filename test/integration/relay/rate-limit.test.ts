import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { metricValue, openClient } from './socket-client.js'

/** Sends the requests one after another on one keep-alive connection; returns each response. */
async function askInTurn(port: number, requests: string[]): Promise<string[]> {
  const client = await openClient(port)
  const responses: string[] = []
  try {
    for (const request of requests) {
      const before = client.received().length
      client.socket.write(request)
      await waitFor(
        () => isWhole(client.received().slice(before)) || client.isClosed(),
        'a whole response',
      )
      responses.push(client.received().slice(before))
    }
    assert.equal(client.isClosed(), false, 'the connection stays open')
    return responses
  } finally {
    client.socket.destroy()
  }
}

/** A response head and as much body as its Content-Length (or chunked framing) says. */
function isWhole(text: string): boolean {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) return false
  const body = text.slice(end + 4)
  const length = headerOf(text.slice(0, end), 'content-length')
  return length === null ? body.endsWith('0\r\n\r\n') : body.length >= Number(length)
}

// The refill is one request per 100 s, so nothing refills while a test runs.
describe('per-agent request rate: a token bucket per agent', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let target: string
  const tokens: Record<string, string> = {}

  before(async () => {
    upstream = await startEchoUpstream()
    target = `127.0.0.1:${upstream.port}`
    tg = await startTollgate(
      `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
  - { name: other, owner: alice@example.com, team: platform, policies: [open] }
  - name: fast
    owner: alice@example.com
    team: platform
    policies: [open]
    rate: { requestsPerSecond: 1000, burst: 20 }
policies:
  - name: open
    rules:
      - name: all
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${upstream.port}]
routes:
  - { name: echo, upstream: "http://127.0.0.1:${upstream.port}" }
`,
      {},
      '  limits: { rate: { requestsPerSecond: 0.01, burst: 2 } }\n',
    )
    for (const agent of ['bot', 'other', 'fast']) tokens[agent] = tg.issueToken(agent).token
  })

  after(async () => {
    await tg.stop()
    await upstream.close()
  })

  const get = (agent: string) =>
    `GET http://${target}/x HTTP/1.1\r\nHost: ${target}\r\n` +
    `Proxy-Authorization: ${basicAuth(agent, tokens[agent] ?? '')}\r\n\r\n`

  test('past its burst an agent gets 429 with Retry-After, and keeps its connection', async () => {
    const before = upstream.received.length
    const responses = await askInTurn(tg.proxyPort, [get('bot'), get('bot'), get('bot')])

    assert.deepEqual(responses.map(statusOf), [200, 200, 429])
    const limited = responses[2] ?? ''
    assert.equal(headerOf(limited, 'tollgate-error'), 'TOLLGATE_RATE_LIMITED')
    assert.match(limited, /"code":"TOLLGATE_RATE_LIMITED"/)
    // One token per 100 s: the next one is 100 s away, give or take the time already passed.
    const retryAfter = Number(headerOf(limited, 'retry-after'))
    assert.ok(retryAfter > 90 && retryAfter <= 100, `Retry-After: ${retryAfter}`)
    assert.equal(upstream.received.length, before + 2, 'the refused request never left')
  })

  test('each agent has its own bucket', async () => {
    const responses = await askInTurn(tg.proxyPort, [get('other'), get('other')])
    assert.deepEqual(responses.map(statusOf), [200, 200])
  })

  test("an agent's own rate replaces the server's", async () => {
    const responses = await askInTurn(
      tg.proxyPort,
      Array.from({ length: 10 }, () => get('fast')),
    )
    assert.deepEqual(new Set(responses.map(statusOf)), new Set([200]))
  })

  test('reverse routes draw on the same bucket', async () => {
    const request =
      `GET /echo/y HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Authorization: Bearer ${tokens['other'] ?? ''}\r\n\r\n`
    const [response] = await askInTurn(tg.reversePort, [request])
    assert.equal(statusOf(response ?? ''), 429)
    assert.equal(headerOf(response ?? '', 'tollgate-error'), 'TOLLGATE_RATE_LIMITED')
  })

  test('every refusal is audited with the agent and the code, and counted', async () => {
    const limited = () => tg.auditEvents().filter((e) => e.code === 'TOLLGATE_RATE_LIMITED')
    await waitFor(() => limited().length === 2, 'two rate-limited events')
    assert.deepEqual(
      limited().map((e) => [e.agent, e.status, e.type, e.decision]),
      [
        ['bot', 429, 'request.rejected', 'limited'],
        ['other', 429, 'request.rejected', 'limited'],
      ],
    )
    assert.equal(await metricValue(tg.controlPort, 'tollgate_rate_limited_total'), 2)
  })
})
