import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'

// Every request inside an intercepted tunnel is charged to the agent's bucket, like a plain
// one: a tunnel is not a way around the rate.
describe('per-agent request rate inside a CONNECT tunnel', () => {
  let https: EchoUpstream
  let tg: Harness
  let token: string

  before(async () => {
    const tls = await createUpstreamTls()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(
      `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
policies:
  - name: open
    rules:
      - name: all
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${https.port}]
upstreams:
  - host: "127.0.0.1"
    caFile: ./upstream-ca.pem
`,
      { 'upstream-ca.pem': tls.caPem },
      '  limits: { rate: { requestsPerSecond: 0.01, burst: 2 } }\n',
    )
    token = tg.issueToken('bot').token
  })

  after(async () => {
    await tg.stop()
    await https.close()
  })

  test('the third request on one tunnel gets 429, and it is recorded as limited', async () => {
    const target = `https://127.0.0.1:${https.port}`
    const res = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '--cacert',
      tg.caFile,
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{num_connects}\\n',
      `${target}/one`,
      `${target}/two`,
      `${target}/three`,
    ])
    const everything = Object.entries(res.headers).join('\n') + '\n' + res.body
    const codes = [...everything.matchAll(/^(\d{3}) (\d+)$/gm)].map((m) => [m[1], m[2]])
    assert.deepEqual(
      codes.map((c) => c[0]),
      ['200', '200', '429'],
      res.stderr,
    )
    assert.equal(codes[2]?.[1], '0', 'the third request reused the tunnel')
    assert.equal(https.received.filter((r) => r.url === '/three').length, 0)

    const limited = () => tg.auditEvents().filter((e) => e.code === 'TOLLGATE_RATE_LIMITED')
    await waitFor(() => limited().length === 1, 'the refusal in the audit trail')
    assert.deepEqual(
      limited().map((e) => [e.agent, e.path, e.decision, e.status]),
      [['bot', '/three', 'limited', 429]],
    )
  })
})
