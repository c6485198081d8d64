import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  linesOf,
  pollUntil,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { cliTestConfig } from '../cli/cli-config.js'
import { findExecutable } from '../../../src/sandbox/find-executable.js'

const skip = findExecutable('bwrap') === null && process.env['CI'] !== 'true'

// Its own relay: the test kills it.
describe('tollgate run: a box whose relay dies has no network', { skip }, () => {
  let ws: CliWorkspace
  let upstream: EchoUpstream
  let serve: ServeProcess
  let project: string

  before(async () => {
    upstream = await startEchoUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: upstream.port }))
    project = join(ws.dir, 'project')
    mkdirSync(project)
    mkdirSync(join(ws.dir, 'home'))
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await upstream.close()
    ws.remove()
  })

  test('after SIGKILL to serve, both the proxy and a direct connection fail', async () => {
    const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`
    const code = (extra: string, path: string) =>
      `$(curl -s -m 2 ${extra} -o /dev/null -w '%{http_code}' ${url(path)})`
    // Every 100 ms: one proxied and one direct attempt, tagged with whether the test has
    // said (by creating `killed` in the shared working directory) that the relay is dead.
    // Three attempts after the kill, then exit; bounded either way.
    const script = [
      'a=0; i=0',
      'while [ "$i" -lt 300 ]; do',
      '  i=$((i+1))',
      '  if [ -e killed ]; then phase=after; else phase=before; fi',
      `  p=${code('', '/open/loss-$phase')}`,
      `  d=${code("--noproxy '*'", '/open/direct-$phase')}`,
      '  echo "$phase proxy=$p direct=$d" >> results',
      '  if [ "$phase" = after ]; then a=$((a+1)); [ "$a" -ge 3 ] && break; fi',
      '  sleep 0.1',
      'done',
    ].join('\n')
    const running = ws.run(['run', '--agent', 'bot', '--', 'sh', '-c', script], {
      cwd: project,
      env: { HOME: join(ws.dir, 'home') },
    })
    const results = () => (existsSync(join(project, 'results')) ? linesOf(readFile()) : [])
    const readFile = () => readFileSync(join(project, 'results'), 'utf8')
    await pollUntil(
      () => Promise.resolve(results().includes('before proxy=200 direct=000')),
      'a proxied request from the box',
      20_000,
    )

    serve.signal('SIGKILL')
    await serve.exited
    writeFileSync(join(project, 'killed'), '')
    const result = await running
    assert.equal(result.code, 0, result.stderr)

    const lines = results()
    const before = lines.filter((line) => line.startsWith('before '))
    const afterKill = lines.filter((line) => line.startsWith('after '))
    // Attempts between the kill and the `killed` file may already fail; none succeeds after
    // one has failed, and no direct attempt ever succeeds.
    const proxied = before.map((line) => /^before proxy=(\d{3}) direct=000$/.exec(line)?.[1])
    assert.equal(proxied[0], '200', lines.join('\n'))
    const firstFailure = proxied.indexOf('000')
    const okRun = firstFailure === -1 ? proxied : proxied.slice(0, firstFailure)
    assert.ok(
      okRun.every((c) => c === '200'),
      lines.join('\n'),
    )
    assert.ok(
      firstFailure === -1 || proxied.slice(firstFailure).every((c) => c === '000'),
      lines.join('\n'),
    )
    assert.deepEqual(afterKill, Array(3).fill('after proxy=000 direct=000'))
    assert.ok(upstream.received.some((r) => r.url === '/open/loss-before'))
    assert.ok(!upstream.received.some((r) => r.url.startsWith('/open/direct-')))
    assert.ok(!upstream.received.some((r) => r.url === '/open/loss-after'))
  })
})
