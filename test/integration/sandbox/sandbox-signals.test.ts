import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { linesOf, pollUntil, TOLLGATE_BIN } from '../../helpers/cli.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'
import {
  NO_SCRIPT,
  startBox,
  startBoxOnTerminal,
  waitInBox,
  type RunningBox,
} from './box-process-runner.js'

/**
 * An agent that traps `signal`, cleans up for a moment (a killed agent would never print
 * `cleanup-done`) and exits with its own status; it says `ready` once the trap is set, and
 * would say `not-interrupted` if the signal never came.
 */
function trappingAgent(signal: string, status: number, ready = 'ready'): string {
  return [
    `trap 'echo got-${signal}; sleep 0.3; echo cleanup-done; exit ${status}' ${signal}`,
    `touch ${ready}`,
    waitInBox('never-created', 300),
    'echo not-interrupted',
  ].join('\n')
}

/** Host PIDs whose command line contains `text`. */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => readQuietly(`/proc/${pid}/cmdline`).includes(text))
    .map(Number)
}

/** The `tollgate run` process whose command line contains `text`. */
function tollgateRunWith(text: string): number {
  const pid = processesWith(text).find((candidate) => {
    const argv = readQuietly(`/proc/${candidate}/cmdline`).split('\0')
    return argv[1] === TOLLGATE_BIN && argv.includes('run')
  })
  assert.ok(pid !== undefined && pid > 1, `no tollgate run with ${text}`)
  return pid
}

function readQuietly(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

describe('tollgate run: signals reach the agent', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace

  const stoppedStatus = async (box: RunningBox): Promise<unknown> => {
    const id = /id=(sbx_[0-9a-f]{16})/.exec(box.output())?.[1]
    const exported = await sb.ws.run(['audit', 'export', '--format', 'jsonl'])
    const events = linesOf(exported.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    const stopped = events.find((e) => e['type'] === 'sandbox.stopped' && e['sandbox_id'] === id)
    return (stopped?.['detail'] as Record<string, unknown> | undefined)?.['exit_status']
  }

  before(async () => {
    sb = await startSandboxWorkspace()
  })

  after(() => sb.stop())

  test('SIGINT to tollgate run reaches the agent, which cleans up and exits as it chooses', async () => {
    const box = startBox(sb, `echo "id=$TOLLGATE_SANDBOX_ID"\n${trappingAgent('INT', 42)}`)
    await box.waitForFile('ready')
    box.child.kill('SIGINT')

    assert.equal(await box.exited, 42, box.stderr())
    assert.deepEqual(linesOf(box.output()).slice(1), ['got-INT', 'cleanup-done'])
    assert.equal(await stoppedStatus(box), 42)
  })

  test('Ctrl-C sent to the whole foreground job, as a terminal does, spares bwrap', async () => {
    // The terminal signals every process of its foreground group; bwrap must not be in it,
    // or it dies and takes the box with it before the agent can clean up.
    const box = startBox(sb, trappingAgent('INT', 42, 'ready-group'))
    await box.waitForFile('ready-group')
    process.kill(-(box.child.pid ?? 0), 'SIGINT')

    assert.equal(await box.exited, 42, box.stderr())
    assert.deepEqual(linesOf(box.output()), ['got-INT', 'cleanup-done'])
  })

  test('SIGTERM, SIGHUP, SIGQUIT and SIGWINCH reach the agent too', async () => {
    for (const [signal, status] of [
      ['TERM', 43],
      ['HUP', 44],
      ['QUIT', 45],
      ['WINCH', 46],
    ] as const) {
      const box = startBox(sb, trappingAgent(signal, status, `ready-${signal}`))
      await box.waitForFile(`ready-${signal}`)
      box.child.kill(`SIG${signal}`)
      assert.equal(await box.exited, status, box.stderr())
      assert.deepEqual(linesOf(box.output()), [`got-${signal}`, 'cleanup-done'])
    }
  })

  test('an agent that does not trap SIGINT dies of it: status 130', async () => {
    const box = startBox(sb, `touch ready-plain; ${waitInBox('never-created', 300)}; echo survived`)
    await box.waitForFile('ready-plain')
    box.child.kill('SIGINT')
    assert.equal(await box.exited, 130, box.stderr())
    assert.equal(box.output(), '')
  })

  test('--wall-time ends the box with status 124', async () => {
    const box = startBox(sb, `${waitInBox('never-created', 300)}; echo outlived`, [
      '--wall-time',
      '1',
    ])
    assert.equal(await box.exited, 124)
    assert.equal(box.output(), '')
    assert.match(box.stderr(), /the sandbox reached its wall time/)
  })

  test('SIGKILL to tollgate run takes the whole box with it, on pipes and on a terminal', async () => {
    for (const start of [startBox, startBoxOnTerminal]) {
      // The marker names the box's processes on the host: the agent and its `sleep`s.
      const marker = `box-marker-${start.name}-${process.pid}`
      const script = `touch ready-${marker}; while :; do sleep 0.1; done; : ${marker}`
      const box = start(sb, script, [])
      await box.waitForFile(`ready-${marker}`)
      assert.ok(processesWith(marker).length > 0, 'the box runs')

      process.kill(tollgateRunWith(marker), 'SIGKILL')
      await pollUntil(
        () => Promise.resolve(processesWith(marker).length === 0),
        `the box of ${start.name} to die`,
        20_000,
      )
      box.child.kill('SIGKILL')
      await box.exited
    }
  })

  test(
    'Ctrl-C typed on a terminal reaches the agent through the pseudo-terminal',
    { skip: NO_SCRIPT },
    async () => {
      const box = startBoxOnTerminal(sb, trappingAgent('INT', 42, 'ready-tty'))
      await box.waitForFile('ready-tty')
      box.child.stdin?.write('\x03')

      const status = await box.exited
      assert.equal(status, 42, box.output())
      // The pseudo-terminal echoes the typed Ctrl-C as `^C`, as a terminal does.
      const lines = linesOf(box.output().replaceAll('\r', '').replaceAll('^C', ''))
      assert.deepEqual(lines, ['got-INT', 'cleanup-done'])
    },
  )
})
