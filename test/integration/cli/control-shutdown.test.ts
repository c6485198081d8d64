import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { curl } from '../../helpers/curl.js'
import { waitFor } from '../../helpers/tollgate-harness.js'
import {
  createWorkspace,
  hasMessage,
  linesOf,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { cliTestConfig } from './cli-config.js'

/** An upstream that answers at once, except `/open/slow`, which waits for `release()`. */
interface SlowUpstream {
  port: number
  held: number
  release(): void
  close(): Promise<void>
}

async function startSlowUpstream(): Promise<SlowUpstream> {
  const waiting: Array<() => void> = []
  const state = { held: 0 }
  const server: Server = createServer((req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('done\n')
    if (req.url !== '/open/slow') return answer()
    state.held++
    waiting.push(answer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    get held() {
      return state.held
    },
    release: () => waiting.splice(0).forEach((answer) => answer()),
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('serve: /healthz, /metrics and graceful shutdown', () => {
  let ws: CliWorkspace
  let upstream: SlowUpstream
  let serve: ServeProcess
  let proxy = ''
  const control = (path: string) => fetch(`http://127.0.0.1:${serve.controlPort}${path}`)

  before(async () => {
    upstream = await startSlowUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: upstream.port }))
    serve = await ws.serve()
    const token = (await ws.run(['token', 'issue', '--agent', 'bot'])).stdout.trim()
    proxy = `http://bot:${token}@127.0.0.1:${serve.proxyPort}`
  })

  after(async () => {
    upstream.release()
    await serve.kill()
    await upstream.close()
    ws.remove()
  })

  test('/healthz is 200 JSON naming the config version (the hash of the file)', async () => {
    const res = await control('/healthz')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    const digest = createHash('sha256').update(readFileSync(ws.configPath)).digest('hex')
    assert.deepEqual(await res.json(), { status: 'ok', config_version: `sha256:${digest}` })
  })

  test('/metrics counts a request in tollgate_requests_total', async () => {
    const res = await curl(['-x', proxy, `http://127.0.0.1:${upstream.port}/open/fast`])
    assert.equal(res.status, 200)
    const metrics = await (await control('/metrics')).text()
    assert.match(metrics, /^# TYPE tollgate_requests_total counter$/m)
    assert.match(metrics, /^tollgate_requests_total\{[^}]*decision="allow"[^}]*\} 1$/m)
  })

  test('SIGTERM lets an in-flight request finish with 200, then exits 0', async () => {
    const slow = curl(['-x', proxy, `http://127.0.0.1:${upstream.port}/open/slow`])
    await waitFor(() => upstream.held === 1, 'the slow request to reach the upstream')

    serve.signal('SIGTERM')
    await serve.waitForLine(hasMessage('stopping'), 'the stopping log line')
    const health = await control('/healthz')
    assert.equal(health.status, 503, 'not ready while draining')
    assert.equal(((await health.json()) as { status: string }).status, 'stopping')
    const late = await curl(['-x', proxy, `http://127.0.0.1:${upstream.port}/open/late`])
    assert.equal(late.exitCode, 7, 'new connections are refused while draining')

    upstream.release()
    const res = await slow
    assert.equal(res.status, 200)
    assert.equal(res.body, 'done\n')
    assert.equal(await serve.exited, 0)
    await serve.waitForLine(hasMessage('stopped'), 'the stopped log line')
  })

  test('the audit trail ends with relay.stopped, after the slow request completed', async () => {
    const exported = await ws.run(['audit', 'export'])
    const events = linesOf(exported.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(events.at(-1)?.['type'], 'relay.stopped')
    const completed = events.filter((e) => e['type'] === 'request.completed')
    const slow = completed.find((e) => e['path'] === '/open/slow')
    assert.equal(slow?.['status'], 200)
  })
})
