import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { linesOf, pollUntil } from '../../helpers/cli.js'
import { OUTPUT_LOG_MAX_BYTES, capMarker } from '../../../src/sandbox/output-log.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'
import { NO_SCRIPT, startBoxOnTerminal } from './box-process-runner.js'

const PYTHON = '/usr/bin/python3'

describe('tollgate sandbox logs: the output of a box, kept', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace

  const box = (script: string) => sb.box(script)
  const logPath = (id: string) => join(sb.ws.stateDir, 'sandboxes', id, 'output.log')
  const sandboxIdIn = (text: string) => /id=(sbx_[0-9a-f]{16})/.exec(text)?.[1] ?? ''
  const isListed = async (id: string) => {
    const list = await sb.ws.run(['sandbox', 'list', '--json'])
    return (JSON.parse(list.stdout) as Array<{ id: string }>).some((s) => s.id === id)
  }

  before(async () => {
    sb = await startSandboxWorkspace()
  })

  after(() => sb.stop())

  test('run prints as before and copies stdout and stderr to a 0600 log', async () => {
    const result = await box('echo "id=$TOLLGATE_SANDBOX_ID"; echo to-out; echo to-err >&2')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /to-out/)
    assert.equal(result.stderr, 'to-err\n')
    const id = sandboxIdIn(result.stdout)

    const path = logPath(id)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700)
    assert.deepEqual(linesOf(readFileSync(path, 'utf8')), [`id=${id}`, 'to-out', 'to-err'])

    const logs = await sb.ws.run(['sandbox', 'logs', id])
    assert.equal(logs.code, 0, logs.stderr)
    assert.deepEqual(linesOf(logs.stdout), [`id=${id}`, 'to-out', 'to-err'])
  })

  test('--follow prints output as it comes and ends when the sandbox stops', async () => {
    // The working directory is the handshake: the test says when to go on, bounded.
    const wait = (name: string) =>
      `i=0; until [ -e ${name} ] || [ $i -gt 300 ]; do i=$((i+1)); sleep 0.1; done`
    const running = box(`echo "id=$TOLLGATE_SANDBOX_ID"; echo before; ${wait('go')}; echo after`)
    let id = ''
    await pollUntil(
      async () => {
        const list = await sb.ws.run(['sandbox', 'list', '--json'])
        id = (JSON.parse(list.stdout) as Array<{ id: string }>)[0]?.id ?? ''
        return id !== '' && existsSync(logPath(id))
      },
      'the running sandbox and its log',
      30_000,
    )
    const following = sb.ws.run(['sandbox', 'logs', '--follow', id])
    await pollUntil(
      () => Promise.resolve(readFileSync(logPath(id), 'utf8').includes('before')),
      'the first output',
      30_000,
    )
    writeFileSync(join(sb.project, 'go'), '')

    const [followed, ran] = await Promise.all([following, running])
    assert.equal(ran.code, 0, ran.stderr)
    assert.equal(followed.code, 0, followed.stderr)
    assert.deepEqual(linesOf(followed.stdout), [`id=${id}`, 'before', 'after'])
    assert.equal(await isListed(id), false)
  })

  test('the log stops at 10 MiB with a marker line; the terminal still gets everything', async () => {
    const total = OUTPUT_LOG_MAX_BYTES + 1024 * 1024
    const result = await box(
      `echo "id=$TOLLGATE_SANDBOX_ID" >&2; head -c ${total} /dev/zero | tr '\\0' a`,
    )
    assert.equal(result.code, 0)
    assert.equal(result.stdout.length, total)
    const log = readFileSync(logPath(sandboxIdIn(result.stderr)))
    assert.equal(
      log.length,
      OUTPUT_LOG_MAX_BYTES + Buffer.byteLength(capMarker(OUTPUT_LOG_MAX_BYTES)),
    )
    assert.ok(log.toString('latin1').endsWith(capMarker(OUTPUT_LOG_MAX_BYTES)))
  })

  test('an unknown or malformed id is a clear TOLLGATE_NOT_FOUND', async () => {
    const unknown = await sb.ws.run(['sandbox', 'logs', 'sbx_00000000deadbeef'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /TOLLGATE_NOT_FOUND: no sandbox sbx_00000000deadbeef/)
    const malformed = await sb.ws.run(['sandbox', 'logs', '../../master.key'])
    assert.equal(malformed.code, 1)
    assert.match(malformed.stderr, /TOLLGATE_NOT_FOUND: no sandbox \.\.\/\.\.\/master\.key/)
    assert.equal(malformed.stdout, '')
  })

  test(
    'a run on a terminal keeps a terminal, without a controlling one, and is captured',
    { skip: NO_SCRIPT },
    async () => {
      const script = [
        '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo tty=yes',
        'echo "id=$TOLLGATE_SANDBOX_ID"',
        'grep "^Seccomp:" /proc/self/status',
        // Field 7 of stat is the controlling terminal: none, thanks to bwrap --new-session.
        'echo "ctty=$(cut -d" " -f7 /proc/self/stat)"',
        'echo to-err >&2',
        'exit 3',
      ].join('; ')
      const box = startBoxOnTerminal(sb, script)
      assert.equal(await box.exited, 3, box.output())
      const shown = linesOf(box.output().replaceAll('\r', ''))
      const id = sandboxIdIn(box.output())
      const expected = ['tty=yes', `id=${id}`, 'Seccomp:\t2', 'ctty=0', 'to-err']
      assert.deepEqual(shown, expected)

      const logs = await sb.ws.run(['sandbox', 'logs', id])
      assert.equal(logs.code, 0, logs.stderr)
      // The log holds what the terminal showed, line endings and all.
      assert.equal(logs.stdout, expected.map((line) => `${line}\r\n`).join(''))
    },
  )

  test(
    'on the pseudo-terminal, TIOCSTI cannot push keys into the input',
    { skip: NO_SCRIPT || (!existsSync(PYTHON) && process.env['CI'] !== 'true') },
    async () => {
      const tiocsti = `${PYTHON} -c 'import fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("tiocsti=0")
except OSError as e:
    print("tiocsti=%d" % e.errno)'`
      const box = startBoxOnTerminal(sb, tiocsti)
      assert.equal(await box.exited, 0, box.output())
      // EPERM: the box is not in the terminal's session; EIO where the kernel forbids it all.
      assert.match(box.output(), /^tiocsti=(1|5)\r$/m)
    },
  )
})
