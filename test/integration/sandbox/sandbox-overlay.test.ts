import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  linesOf,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { SandboxClient, type SandboxInfo } from '../../../src/control-plane/sandbox-client.js'
import { loadConfigFile } from '../../../src/config/load.js'
import { NO_LIMITS } from '../../../src/sandbox/sandbox-limits.js'
import { findExecutable } from '../../../src/sandbox/find-executable.js'

/**
 * The agent may GET and POST under /open; the `read-only` overlay lets only GET through, and
 * allows /wide, which the agent may not reach: an overlay that tries to widen.
 */
function overlayConfig(httpPort: number, sshPort: number, withOverlay = true): string {
  const overlay = `
  - name: read-only
    rules:
      - name: read-open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        methods: [GET]
        paths: ["/open/**"]
      - name: wider-than-the-agent
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/wide/**"]
      - name: ssh
        hosts: ["127.0.0.1"]
        ports: [${sshPort}]
        tunnel: opaque
`
  return `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [main] }
policies:
  - name: main
    rules:
      - name: open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        methods: [GET, POST]
        paths: ["/open/**"]
      - name: ssh
        hosts: ["127.0.0.1"]
        ports: [${sshPort}]
        tunnel: opaque
${withOverlay ? overlay : ''}`
}

/** An absolute-form request through a sandbox's private relay socket. */
function viaSandbox(
  sandbox: SandboxInfo,
  method: string,
  url: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Node would send `Host: localhost`; the relay refuses a Host that disagrees with the URL.
    const headers = { host: new URL(url).host }
    const req = request({ socketPath: sandbox.socket, method, path: url, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function ruleOf(body: string): string | null {
  return (JSON.parse(body) as { error: { rule: string | null } }).error.rule
}

const BANNER = 'SSH-2.0-OverlayTest\r\n'

async function startBannerServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.once('close', () => sockets.delete(socket))
    socket.write(BANNER)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('sandbox policy overlays through the sandbox listener', () => {
  let upstream: EchoUpstream
  let ssh: { port: number; close(): Promise<void> }
  let tg: Harness
  let client: SandboxClient
  const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`

  before(async () => {
    upstream = await startEchoUpstream()
    ssh = await startBannerServer()
    tg = await startTollgate(overlayConfig(upstream.port, ssh.port))
    client = new SandboxClient(tg.stateDir)
  })

  after(async () => {
    await tg.stop()
    await upstream.close()
    await ssh.close()
  })

  test('stopping the sandbox cuts its open opaque tunnel', async () => {
    const sandbox = await client.start('bot', ['agent'], NO_LIMITS, { seccomp: false }, [
      'read-only',
    ])
    const socket = connect({ path: sandbox.socket })
    socket.on('error', () => undefined)
    const target = `127.0.0.1:${ssh.port}`
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    await waitFor(() => received.includes(BANNER), 'the banner through the tunnel')
    assert.match(received, /^HTTP\/1.1 200 /)

    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await client.stop(sandbox.id)
    await closed

    const isTunnelEnd = (e: { type: string; sandbox_id: string | null; method: string | null }) =>
      e.type === 'request.completed' && e.sandbox_id === sandbox.id && e.method === 'CONNECT'
    await waitFor(() => tg.auditEvents().some(isTunnelEnd), 'the tunnel completion event')
    const event = tg.auditEvents().find(isTunnelEnd)
    assert.equal(event?.bytes_out, BANNER.length)
    assert.equal(event?.rule, 'main/ssh')
  })

  test('the overlay narrows the agent and names itself in the 403 and the audit trail', async () => {
    const sandbox = await client.start('bot', ['agent'], NO_LIMITS, { seccomp: false }, [
      'read-only',
    ])
    assert.deepEqual(sandbox.overlay, ['read-only'])

    assert.equal((await viaSandbox(sandbox, 'GET', url('/open/read'))).status, 200)
    const post = await viaSandbox(sandbox, 'POST', url('/open/write'))
    assert.equal(post.status, 403)
    assert.equal(ruleOf(post.body), 'overlay: no rule matched')
    assert.ok(!upstream.received.some((r) => r.url === '/open/write'))

    // The overlay allows /wide; the agent does not, so neither does the box.
    assert.equal((await viaSandbox(sandbox, 'GET', url('/wide/x'))).status, 403)
    assert.ok(!upstream.received.some((r) => r.url === '/wide/x'))

    const events = tg.auditEvents()
    const started = events.find((e) => e.type === 'sandbox.started' && e.sandbox_id === sandbox.id)
    assert.deepEqual(started?.detail?.['overlay'], ['read-only'])
    await waitFor(
      () => tg.auditEvents().some((e) => e.sandbox_id === sandbox.id && e.method === 'POST'),
      'the denied request event',
    )
    const denied = tg.auditEvents().find((e) => e.sandbox_id === sandbox.id && e.method === 'POST')
    assert.equal(denied?.decision, 'deny')
    assert.equal(denied?.rule, 'overlay: no rule matched')
    await client.stop(sandbox.id)
  })

  test('a sandbox without an overlay gets what the agent gets', async () => {
    const sandbox = await client.start('bot', ['agent'], NO_LIMITS, { seccomp: false })
    assert.equal((await viaSandbox(sandbox, 'POST', url('/open/plain'))).status, 200)
    await client.stop(sandbox.id)
  })

  test('the relay refuses an overlay naming no policy, and registers nothing', async () => {
    await assert.rejects(
      client.start('bot', ['agent'], NO_LIMITS, { seccomp: false }, ['nope']),
      (error: Error) => /no policy named nope/.test(error.message),
    )
    assert.deepEqual(await client.list(), [])
  })

  test('a reload that removes the overlay policy makes the sandbox fail closed', async () => {
    const sandbox = await client.start('bot', ['agent'], NO_LIMITS, { seccomp: false }, [
      'read-only',
    ])
    assert.equal((await viaSandbox(sandbox, 'GET', url('/open/before'))).status, 200)

    writeFileSync(
      tg.configPath,
      readServer(tg.configPath) + overlayConfig(upstream.port, ssh.port, false),
    )
    await tg.service.applyConfig(loadConfigFile(tg.configPath))

    const after = await viaSandbox(sandbox, 'GET', url('/open/after'))
    assert.equal(after.status, 403)
    assert.equal(ruleOf(after.body), 'overlay: policy read-only is not in config')
    assert.ok(!upstream.received.some((r) => r.url === '/open/after'))
    await client.stop(sandbox.id)
  })
})

/** The `server:` part of a harness config: everything before the first `people:` key. */
function readServer(path: string): string {
  const text = readFileSync(path, 'utf8')
  return text.slice(0, text.indexOf('\npeople:') + 1)
}

// Real bubblewrap or nothing: on CI a missing bwrap is a failure, not a skip.
const skip = findExecutable('bwrap') === null && process.env['CI'] !== 'true'

describe('tollgate run --policy: a real box under an overlay', { skip }, () => {
  let ws: CliWorkspace
  let upstream: EchoUpstream
  let ssh: { port: number; close(): Promise<void> }
  let serve: ServeProcess
  let project: string

  const box = (script: string, args: string[]) =>
    ws.run(['run', '--agent', 'bot', ...args, '--', 'sh', '-c', script], {
      cwd: project,
      env: { HOME: join(ws.dir, 'home') },
    })

  before(async () => {
    upstream = await startEchoUpstream()
    ssh = await startBannerServer()
    ws = createWorkspace()
    ws.writeConfig(overlayConfig(upstream.port, ssh.port))
    project = join(ws.dir, 'project')
    mkdirSync(project)
    mkdirSync(join(ws.dir, 'home'))
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await upstream.close()
    await ssh.close()
    ws.remove()
  })

  test('an unknown --policy is refused before any box starts', async () => {
    const result = await box('echo inside', ['--policy', 'read-onyl'])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /--policy read-onyl: no policy of that name/)
    assert.match(result.stderr, /did you mean "read-only"/)
    assert.ok(!result.stdout.includes('inside'))
  })

  test('inside the box the overlay decides: GET passes, POST is refused naming the overlay', async () => {
    const curl = (method: string, path: string) =>
      `curl -s -X ${method} -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:${upstream.port}${path}`
    const result = await box(
      `${curl('GET', '/open/box-read')}; ${curl('POST', '/open/box-write')}`,
      ['--policy', 'read-only'],
    )
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), ['200', '403'])
    assert.ok(!upstream.received.some((r) => r.url === '/open/box-write'))
  })

  test('SSH-like bytes leave the box through an opaque tunnel, audited with the sandbox id', async () => {
    // What `ssh -o ProxyCommand=...` would run: socat speaking CONNECT to the box's relay port.
    const script =
      `printf 'SSH-2.0-boxclient\\r\\n' | ` +
      `socat -t 5 - PROXY:127.0.0.1:127.0.0.1:${ssh.port},proxyport=3128`
    const result = await box(script, ['--policy', 'read-only'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, `${BANNER}SSH-2.0-boxclient\r\n`)

    const exported = await ws.run(['audit', 'export', '--format', 'jsonl'])
    const events = linesOf(exported.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    const tunnel = events.find(
      (e) => e['type'] === 'request.completed' && e['method'] === 'CONNECT',
    )
    assert.equal(tunnel?.['rule'], 'main/ssh')
    assert.equal(typeof tunnel?.['sandbox_id'], 'string')
    assert.equal(tunnel?.['bytes_in'], 'SSH-2.0-boxclient\r\n'.length)
    assert.equal(tunnel?.['bytes_out'], BANNER.length + 'SSH-2.0-boxclient\r\n'.length)
  })
})
