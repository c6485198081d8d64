import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
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
describe('tollgate run: a box whose relay dies or restarts has no network', { skip }, () => {
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

  test('after SIGKILL to serve, and after a restart, neither the proxy nor a direct connection works', async () => {
    const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`
    const code = (extra: string, path: string) =>
      `$(curl -s -m 2 ${extra} -o /dev/null -w '%{http_code}' ${url(path)})`
    // Every 100 ms: one proxied and one direct attempt, tagged with what the test has said
    // (by files in the shared working directory) about the relay: `before` it is killed,
    // `after` (killed), `restarted` (a new relay runs on the same state directory). Three
    // attempts after the restart, then exit; bounded either way.
    const script = [
      'echo "id=$TOLLGATE_SANDBOX_ID" > id',
      'a=0; i=0',
      'while [ "$i" -lt 600 ]; do',
      '  i=$((i+1))',
      '  phase=before',
      '  if [ -e killed ]; then phase=after; fi',
      '  if [ -e restarted ]; then phase=restarted; fi',
      `  p=${code('', '/open/loss-$phase')}`,
      `  d=${code("--noproxy '*'", '/open/direct-$phase')}`,
      '  echo "$phase proxy=$p direct=$d" >> results',
      '  if [ "$phase" = restarted ]; then a=$((a+1)); [ "$a" -ge 3 ] && break; fi',
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
    await pollUntil(
      () => Promise.resolve(results().some((line) => line.startsWith('after '))),
      'an attempt after the kill',
      20_000,
    )
    serve = await ws.serve()
    writeFileSync(join(project, 'restarted'), '')
    const result = await running
    assert.equal(result.code, 0, result.stderr)

    const lines = results()
    const phase = (name: string) => lines.filter((line) => line.startsWith(`${name} `))
    // Attempts between the kill and the `killed` file may already fail; none succeeds after
    // one has failed, and no direct attempt ever succeeds.
    const proxied = phase('before').map((l) => /^before proxy=(\d{3}) direct=000$/.exec(l)?.[1])
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
    assert.ok(phase('after').length > 0)
    assert.ok(
      phase('after').every((line) => line === 'after proxy=000 direct=000'),
      lines.join('\n'),
    )
    assert.deepEqual(phase('restarted'), Array(3).fill('restarted proxy=000 direct=000'))
    assert.ok(upstream.received.some((r) => r.url === '/open/loss-before'))
    assert.ok(!upstream.received.some((r) => r.url.startsWith('/open/direct-')))
    assert.ok(!upstream.received.some((r) => r.url === '/open/loss-after'))
    assert.ok(!upstream.received.some((r) => r.url === '/open/loss-restarted'))

    // The new relay knows no sandbox of the old one, and removed the old one's socket.
    const list = await ws.run(['sandbox', 'list', '--json'])
    assert.deepEqual(JSON.parse(list.stdout), [])
    const id = readFileSync(join(project, 'id'), 'utf8').trim().slice('id='.length)
    assert.deepEqual(readdirSync(join(ws.stateDir, 'sandboxes', id)), ['output.log'])
  })
})
