import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import {
  createWorkspace,
  hasMessage,
  linesOf,
  parseLogLine,
  pollUntil,
  runCli,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'

/** One agent; `extraRules` is spliced into its only policy. */
function config(httpPort: number, httpsPort: number, extraRules = ''): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
policies:
  - name: main
    rules:
      - name: open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/open/**"]
      - name: tls
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${httpsPort}]
        paths: ["/api/**"]
${extraRules}upstreams:
  - host: "127.0.0.1"
    caFile: ./trust/upstream-ca.pem
`
}

const LATER_RULE = (port: number) => `      - name: later
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${port}]
        paths: ["/later/**"]
`

describe('config reload while serve runs: file changes and SIGHUP', () => {
  let ws: CliWorkspace
  let http: EchoUpstream
  let https: EchoUpstream
  let serve: ServeProcess
  let proxy = ''
  let caFile = ''
  const later = () => curl(['-x', proxy, `http://127.0.0.1:${http.port}/later/x`])
  const secure = () =>
    curl(['--cacert', caFile, '-x', proxy, `https://127.0.0.1:${https.port}/api/x`])
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${serve.controlPort}/healthz`)
    return ((await res.json()) as { config_version: string }).config_version
  }
  const fileVersion = () =>
    'sha256:' + createHash('sha256').update(readFileSync(ws.configPath)).digest('hex')
  let upstreamCa = ''

  before(async () => {
    const tls = await createUpstreamTls()
    upstreamCa = tls.caPem
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    ws = createWorkspace()
    mkdirSync(join(ws.dir, 'trust'))
    // A CA that did not sign the upstream: HTTPS to it fails until the right one is trusted.
    ws.writeFile('trust/upstream-ca.pem', (await createUpstreamTls()).caPem)
    ws.writeConfig(config(http.port, https.port))

    serve = await ws.serve()
    const token = (await ws.run(['token', 'issue', '--agent', 'bot'])).stdout.trim()
    proxy = `http://bot:${token}@127.0.0.1:${serve.proxyPort}`
    caFile = ws.writeFile('relay-ca.pem', (await ws.run(['ca'])).stdout)
  })

  after(async () => {
    await serve.kill()
    await http.close()
    await https.close()
    ws.remove()
  })

  test('a rewritten config with a new rule turns a denial into an allow', async () => {
    const denied = await later()
    assert.equal(denied.status, 403)
    assert.equal(denied.headers['tollgate-error'], 'TOLLGATE_POLICY_NO_MATCH')

    ws.writeConfig(config(http.port, https.port, LATER_RULE(http.port)))
    await pollUntil(async () => (await later()).status === 200, 'the new rule to apply')
    assert.equal(http.received.at(-1)?.url, '/later/x')
    assert.equal(await health(), fileVersion())
  })

  test('an invalid config is rejected, logged and audited; the previous one keeps serving', async () => {
    const serving = await health()
    // The CLI loads the config too, and refuses a broken one: read the trail through a copy.
    const good = ws.writeFile('good.yaml', readFileSync(ws.configPath, 'utf8'))
    const broken = config(http.port, https.port, LATER_RULE(http.port)).replace(
      'owner: alice@example.com',
      'owner: mallory@example.com',
    )
    ws.writeConfig(broken)

    const line = await serve.waitForLine(hasMessage('config rejected'), 'config rejected')
    assert.match(String(parseLogLine(line)?.['reason']), /is not a declared person/)
    assert.equal((await later()).status, 200, 'the previous config still allows it')
    assert.equal(await health(), serving)

    const args = ['audit', 'query', '--type', 'config.rejected', '--json']
    const query = await runCli(['--config', good, ...args])
    assert.equal(query.code, 0, query.stderr)
    const events = linesOf(query.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(events.length, 1)
    assert.equal(events[0]?.['policy_version'], serving)
    const detail = events[0]?.['detail'] as { path: string; reason: string }
    assert.equal(detail.path, ws.configPath)
    assert.match(detail.reason, /agents\[0\]\.owner: "mallory@example.com"/)
  })

  test('SIGHUP reloads: a CA file the config names (not watched) takes effect', async () => {
    // A new version (not the bytes still in force), so its reload is seen and nothing is
    // left pending when the CA file changes below.
    ws.writeConfig(config(http.port, https.port, LATER_RULE(http.port)) + '# restored\n')
    await pollUntil(async () => (await health()) === fileVersion(), 'the valid config to return')

    const untrusted = await secure()
    assert.equal(untrusted.status, 502, 'the upstream is not trusted yet')
    assert.equal(untrusted.headers['tollgate-error'], 'TOLLGATE_UPSTREAM_TLS')

    ws.writeFile('trust/upstream-ca.pem', upstreamCa)
    assert.notEqual((await secure()).status, 200, 'a CA file change alone does not reload')

    serve.signal('SIGHUP')
    await pollUntil(async () => (await secure()).status === 200, 'SIGHUP to reload the CA')
    assert.equal(https.received.at(-1)?.url, '/api/x')
  })
})
