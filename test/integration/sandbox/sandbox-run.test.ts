import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn, type StdioOptions } from 'node:child_process'
import { cleanEnv, linesOf, pollUntil } from '../../helpers/cli.js'
import { SECRETS } from '../cli/cli-config.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'
import { runArgs } from './box-process-runner.js'

const HOST_SECRET = 'host-dotfile-secret-7781'

describe('tollgate run: a box whose only way out is the relay', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace

  const box = (script: string, args: string[] = []) => sb.box(script, args)
  const url = (path: string) => sb.url(path)
  const status = (path: string, extra = '') =>
    `curl -s -o /dev/null -w '%{http_code}\\n' ${extra} ${url(path)}`

  const auditEvents = async (): Promise<Array<Record<string, unknown>>> => {
    const exported = await sb.ws.run(['audit', 'export', '--format', 'jsonl'])
    assert.equal(exported.code, 0, exported.stderr)
    return linesOf(exported.stdout).map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  before(async () => {
    sb = await startSandboxWorkspace(async ({ ws, home }) => {
      const set = await ws.run(['secret', 'set', 'placeholder-secret'], {
        stdin: `${SECRETS['placeholder-secret']}\n`,
      })
      assert.equal(set.code, 0, set.stderr)
      mkdirSync(join(home, '.aws'), { recursive: true })
      writeFileSync(join(home, '.aws', 'credentials'), `aws_secret_access_key=${HOST_SECRET}\n`)
    })
  })

  after(() => sb.stop())

  test('an allowed request goes through the relay; a forbidden one gets 403', async () => {
    const result = await box(`${status('/open/allowed')}; ${status('/admin/x')}`)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), ['200', '403'])
    assert.ok(sb.upstream.received.some((r) => r.url === '/open/allowed'))
    assert.ok(!sb.upstream.received.some((r) => r.url === '/admin/x'))
  })

  test('direct TCP and DNS fail inside the box', async () => {
    const script = [
      `curl -s -m 5 --noproxy '*' -o /dev/null ${url('/open/direct')}; echo "direct=$?"`,
      'getent hosts example.com > /dev/null; echo "dns=$?"',
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    const [direct, dns] = linesOf(result.stdout)
    assert.notEqual(direct, 'direct=0')
    assert.match(direct ?? '', /^direct=\d+$/)
    assert.notEqual(dns, 'dns=0')
    assert.ok(!sb.upstream.received.some((r) => r.url === '/open/direct'))
  })

  test("the host's home dotfiles, the state directory and /etc/shadow are not readable", async () => {
    const script = [
      'cat "$HOME/.aws/credentials" 2>/dev/null; echo "home=$?"',
      `ls ${JSON.stringify(sb.ws.stateDir)} > /dev/null 2>&1; echo "state=$?"`,
      `cat ${JSON.stringify(join(sb.ws.stateDir, 'master.key'))} 2>/dev/null; echo "key=$?"`,
      'echo "home-is=$HOME"',
      // Empty in the box: not every user may read it, though root (this run's user here) owns it.
      'echo "shadow=$(cat /etc/shadow 2>/dev/null | wc -c)"',
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    assert.ok(!result.stdout.includes(HOST_SECRET), 'a host dotfile was readable')
    const lines = linesOf(result.stdout)
    assert.ok(lines.includes(`home-is=${sb.home}`), result.stdout)
    assert.ok(lines.includes('shadow=0'), result.stdout)
    for (const name of ['home', 'state', 'key']) {
      const line = lines.find((l) => l.startsWith(`${name}=`))
      assert.ok(line !== undefined && line !== `${name}=0`, `${name} was readable: ${line}`)
    }
  })

  test('the box has its own namespaces, a read-only system and a private /tmp', async () => {
    const namespaces = ['user', 'pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']
    const probe = join(tmpdir(), `tollgate-box-tmp-${process.pid}`)
    const script = [
      ...namespaces.map((ns) => `echo "${ns}=$(readlink /proc/self/ns/${ns})"`),
      'echo "agent-pid=$$"',
      'echo "hostname=$(hostname)"',
      'touch /usr/tollgate-probe 2>/dev/null; echo "usr=$?"',
      'touch /etc/tollgate-probe 2>/dev/null; echo "etc=$?"',
      `echo boxed > ${probe}; echo "tmp=$?"`,
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    const values = new Map(
      linesOf(result.stdout).map((line) => line.split('=') as [string, string]),
    )

    for (const ns of namespaces) {
      const inside = values.get(ns)
      assert.match(inside ?? '', new RegExp(`^${ns}:\\[\\d+\\]$`))
      assert.notEqual(inside, readlinkSync(`/proc/self/ns/${ns}`), `${ns} is the host's`)
    }
    // The agent is PID 2 of its own PID namespace, under bwrap's reaper.
    assert.equal(values.get('agent-pid'), '2')
    assert.match(values.get('hostname') ?? '', /^tollgate-[0-9a-f]{8}$/)
    assert.notEqual(values.get('usr'), '0')
    assert.notEqual(values.get('etc'), '0')
    assert.equal(values.get('tmp'), '0')
    assert.ok(!existsSync(probe), "the box wrote to the host's /tmp")
  })

  test('a descriptor tollgate run inherited does not reach the box', async () => {
    // fd 20 of `tollgate run` is a socket to this test, as a leaky parent might hand down
    // (Node itself keeps low inherited fds from its children, not this one).
    const [file = '', ...args] = runArgs(sb, 'ls /proc/self/fd')
    const stdio: StdioOptions = [
      'pipe',
      'pipe',
      'pipe',
      ...Array<'ignore'>(17).fill('ignore'),
      'pipe',
    ]
    const child = spawn(file, args, { cwd: sb.project, env: cleanEnv({ HOME: sb.home }), stdio })
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stdin?.end()
    const code = await new Promise((resolve) => child.once('close', resolve))

    assert.equal(code, 0)
    const fds = linesOf(stdout)
    assert.ok(fds.includes('0') && fds.includes('1') && fds.includes('2'), stdout)
    assert.ok(!fds.includes('20'), `fd 20 reached the box: ${fds.join(' ')}`)
  })

  test('the recorded command line has its secrets redacted', async () => {
    // The stored secret's value, pasted bare where no pattern would know it for a secret.
    const stored = SECRETS['placeholder-secret']
    const script =
      `curl -s -o /dev/null -H "Authorization: Bearer tok-77aa" ${url('/open/r?api_key=zzz9')}` +
      `; echo "id=$TOLLGATE_SANDBOX_ID" # ${stored}`
    const result = await box(script, ['--env-placeholder', 'API_KEY=placeholder-key'])
    assert.equal(result.code, 0, result.stderr)
    const id = /id=(sbx_[0-9a-f]{16})/.exec(result.stdout)?.[1]

    const lifecycle = (await auditEvents()).filter((e) => e['sandbox_id'] === id)
    const commands = lifecycle
      .filter((e) => String(e['type']).startsWith('sandbox.'))
      .map((e) => (e['detail'] as { command: string[] }).command)
    assert.equal(commands.length, 2)
    for (const command of commands) {
      assert.equal(command[2]?.includes('Authorization: REDACTED'), true, command[2])
      assert.equal(command[2]?.includes('/open/r?api_key=REDACTED'), true, command[2])
      assert.ok(!JSON.stringify(command).includes('tok-77aa'))
      assert.ok(!JSON.stringify(command).includes('zzz9'))
      assert.ok(!JSON.stringify(command).includes(stored), 'a stored secret was recorded')
    }
  })

  test('a placeholder in the environment is swapped by the relay, never the secret', async () => {
    const script = [
      'echo "env=$API_KEY"',
      `curl -s -H "Authorization: Bearer $API_KEY" ${url('/placeholder/sdk')}`,
    ].join('; ')
    const result = await box(script, ['--env-placeholder', 'API_KEY=placeholder-key'])
    assert.equal(result.code, 0, result.stderr)
    assert.ok(result.stdout.includes('env=tg-placeholder-0001'), result.stdout)

    const seen = sb.upstream.received.find((r) => r.url === '/placeholder/sdk')
    assert.equal(seen?.headers.authorization, `Bearer ${SECRETS['placeholder-secret']}`)
    assert.ok(!result.stdout.includes(SECRETS['placeholder-secret']), 'the secret reached the box')
  })

  test('an unknown agent, or a working directory holding the state, gets no box', async () => {
    const sandboxesBefore = readdirSync(join(sb.ws.stateDir, 'sandboxes'))
    const unknown = await sb.ws.run(['run', '--agent', 'nobody', '--', 'true'], { cwd: sb.project })
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /TOLLGATE_NOT_FOUND: no agent named nobody/)

    const overlapping = await sb.ws.run(['run', '--agent', 'bot', '--', 'true'], { cwd: sb.ws.dir })
    assert.equal(overlapping.code, 1)
    assert.match(overlapping.stderr, /TOLLGATE_INVALID_ARGUMENT: .* overlaps the state directory/)
    // Earlier runs' output logs stay; no new sandbox was registered.
    assert.deepEqual(readdirSync(join(sb.ws.stateDir, 'sandboxes')), sandboxesBefore)
  })

  test("the agent's exit status is the command's, and is recorded when the box ends", async () => {
    assert.equal((await box('exit 7')).code, 7)
    assert.equal((await box('true')).code, 0)

    const stopped = (await auditEvents()).filter((e) => e['type'] === 'sandbox.stopped')
    const details = stopped.slice(-2).map((e) => e['detail'] as Record<string, unknown>)
    assert.deepEqual(
      details.map((d) => [d['reason'], d['exit_status'], d['oom_kills']]),
      [
        ['stopped', 7, null],
        ['stopped', 0, null],
      ],
    )
  })

  test('audit events carry the sandbox id, agent and owner, and no token', async () => {
    const result = await box(status('/open/audited'))
    assert.equal(result.code, 0, result.stderr)
    const events = await auditEvents()

    const completed = events.find(
      (e) => e['type'] === 'request.completed' && e['path'] === '/open/audited',
    )
    assert.ok(completed, 'no request.completed event for the boxed request')
    assert.match(String(completed['sandbox_id']), /^sbx_[0-9a-f]{16}$/)
    assert.equal(completed['agent'], 'bot')
    assert.equal(completed['owner'], 'alice@example.com')
    assert.equal(completed['token_id'], null)

    const lifecycle = events.filter((e) => e['sandbox_id'] === completed['sandbox_id'])
    const types = lifecycle.map((e) => e['type'])
    assert.equal(types[0], 'sandbox.started')
    assert.equal(types.at(-1), 'sandbox.stopped')
    const detail = lifecycle[0]?.['detail'] as { command?: unknown; limits?: unknown }
    assert.deepEqual(detail.command, ['sh', '-c', status('/open/audited')])
    assert.ok(detail.limits !== undefined)

    const decisionLine = sb.serve.lines.find((line) => line.includes('"path":"/open/audited"'))
    assert.ok(decisionLine?.includes(`"sandboxId":"${String(completed['sandbox_id'])}"`))
  })

  // The host system is the box's root, so the host's Node runs inside it when it lives there.
  const hostNode = /^\/(usr|bin)\//.test(process.execPath) ? process.execPath : null
  test(
    'a Node client in the box reaches an allowed upstream through the relay, not a forbidden one',
    { skip: hostNode === null && 'Node is not under /usr or /bin' },
    async () => {
      // Absolute-form requests to the in-box proxy port, as proxy-aware HTTP clients send them.
      const client = [
        "import { request } from 'node:http'",
        `const targets = ${JSON.stringify([url('/open/from-node'), url('/admin/from-node')])}`,
        'for (const target of targets) {',
        // The Host header names the upstream, as the relay requires for absolute-form.
        '  const headers = { host: new URL(target).host }',
        '  const status = await new Promise((resolve, reject) => {',
        "    const options = { host: '127.0.0.1', port: 3128, path: target, headers }",
        '    const req = request(options, (res) => {',
        '      res.resume()',
        '      resolve(res.statusCode)',
        '    })',
        "    req.on('error', reject)",
        '    req.end()',
        '  })',
        '  console.log(`status=${status}`)',
        '}',
      ].join('\n')
      writeFileSync(join(sb.project, 'client.mjs'), client)
      const result = await box(`${hostNode} client.mjs`)
      assert.equal(result.code, 0, result.stderr + result.stdout)
      assert.deepEqual(linesOf(result.stdout), ['status=200', 'status=403'])
      assert.ok(sb.upstream.received.some((r) => r.url === '/open/from-node'))
      assert.ok(!sb.upstream.received.some((r) => r.url === '/admin/from-node'))

      const events = await auditEvents()
      const completed = events.find(
        (e) => e['type'] === 'request.completed' && e['path'] === '/open/from-node',
      )
      assert.match(String(completed?.['sandbox_id']), /^sbx_[0-9a-f]{16}$/)
      assert.equal(completed?.['agent'], 'bot')
    },
  )

  test('--memory is enforced: a command that allocates more fails', async () => {
    // The shell holds 100 MB in a variable: fine without a limit, refused under 64m.
    const script = 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo "len=${#x}"'
    const unlimited = await box(script)
    assert.equal(unlimited.code, 0, unlimited.stderr)
    assert.deepEqual(linesOf(unlimited.stdout), ['len=100000000'])

    const limited = await box(script, ['--memory', '64m'])
    assert.notEqual(limited.code, 0)
    assert.ok(!limited.stdout.includes('len=100000000'), limited.stdout)
    // The limit itself does not stop a small command.
    const small = await box('echo small', ['--memory', '64m'])
    assert.equal(small.code, 0, small.stderr)
    assert.deepEqual(linesOf(small.stdout), ['small'])
  })

  test('--pids and --cpu-seconds are set in the box, whatever the shell calls them', async () => {
    // Debian's /bin/sh (dash) spells the process limit -p where bash and busybox say -u.
    const result = await box("grep -E '^Max (processes|cpu time)' /proc/self/limits", [
      '--pids',
      '64',
      '--cpu-seconds',
      '30',
    ])
    assert.equal(result.code, 0, result.stderr)
    const limits = linesOf(result.stdout).map((line) => line.split(/\s{2,}/).slice(0, 3))
    assert.deepEqual(limits, [
      ['Max cpu time', '30', '30'],
      ['Max processes', '64', '64'],
    ])
  })

  test('stopping a sandbox cuts its way out; it is unregistered on exit', async () => {
    // The shared working directory is the handshake: the box says when it made its first
    // request, the test says when it has stopped the sandbox (each side waits, bounded).
    const script = [
      status('/open/before'),
      'touch ready',
      'i=0; until [ -e stopped ] || [ "$i" -gt 600 ]; do i=$((i+1)); sleep 0.1; done',
      status('/open/after', '-m 5'),
    ].join('; ')
    const running = box(script)
    const ready = () => Promise.resolve(existsSync(join(sb.project, 'ready')))
    await pollUntil(ready, 'the first boxed request', 30_000)
    const list = await sb.ws.run(['sandbox', 'list', '--json'])
    const listed = JSON.parse(list.stdout) as Array<{ id: string; agent: string }>
    assert.equal(listed.length, 1, list.stdout)
    assert.equal(listed[0]?.agent, 'bot')
    const id = listed[0]?.id ?? ''

    const stopped = await sb.ws.run(['sandbox', 'stop', id])
    writeFileSync(join(sb.project, 'stopped'), '')
    assert.equal(stopped.code, 0, stopped.stderr)

    const result = await running
    assert.deepEqual(linesOf(result.stdout), ['200', '000'])
    assert.ok(!sb.upstream.received.some((r) => r.url === '/open/after'))
    const after = await sb.ws.run(['sandbox', 'list', '--json'])
    assert.deepEqual(JSON.parse(after.stdout), [])
    // Of every stopped sandbox only its output log stays: no socket, no CA copy.
    const root = join(sb.ws.stateDir, 'sandboxes')
    for (const dir of readdirSync(root))
      assert.deepEqual(readdirSync(join(root, dir)), ['output.log'])
  })
})
