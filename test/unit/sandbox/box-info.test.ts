import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { findAgentPid, initPidOf, readBoxInitPid } from '../../../src/sandbox/box-info.js'
import { BoxSignals } from '../../../src/sandbox/box-signals.js'

const dir = mkdtempSync(join(tmpdir(), 'tollgate-box-info-'))
after(() => rmSync(dir, { recursive: true, force: true }))

// What bwrap 0.8 writes to --info-fd.
const INFO = `{
    "child-pid": 14856,
    "cgroup-namespace": 4026532179,
    "pid-namespace": 4026532178
}`

describe("bwrap's info JSON", () => {
  test('gives the host PID of the first process in the box, once complete', () => {
    assert.equal(initPidOf(INFO), 14856)
    assert.equal(initPidOf(INFO.slice(0, 30)), null)
    assert.equal(initPidOf('{"child-pid": "1"}'), null)
    assert.equal(initPidOf('{"child-pid": 1}'), null)
    assert.equal(initPidOf('null'), null)
  })

  test('is read from a stream in pieces, and null if the stream ends without it', async () => {
    const info = new PassThrough()
    const pid = readBoxInitPid(info)
    info.write(INFO.slice(0, 20))
    info.write(INFO.slice(20))
    assert.equal(await pid, 14856)

    const empty = new PassThrough()
    const none = readBoxInitPid(empty)
    empty.end()
    assert.equal(await none, null)
  })
})

describe('findAgentPid', () => {
  /** A fake /proc: one `status` per PID with its parent and its PIDs per namespace level. */
  const fakeProc = (entries: Record<string, [ppid: number, nspid: string]>) => {
    const root = mkdtempSync(join(dir, 'proc-'))
    for (const [pid, [ppid, nspid]] of Object.entries(entries)) {
      mkdirSync(join(root, pid))
      const status = `Name:\tsh\nPPid:\t${ppid}\nNSpid:\t${nspid}\n`
      writeFileSync(join(root, pid, 'status'), status)
    }
    mkdirSync(join(root, 'self'))
    return root
  }

  test('is the child of the box init that is PID 2 in the box', () => {
    const proc = fakeProc({
      '101': [50, '101\t3'],
      '102': [51, '102\t2'],
      '103': [50, '103'],
      '100': [50, '100\t2'],
    })
    assert.equal(findAgentPid(50, proc), 100)
  })

  test('is null while the box has no agent (set-up, or ended)', () => {
    assert.equal(findAgentPid(50, fakeProc({ '101': [50, '101\t3'] })), null)
    // PID 2 of our own namespace is not in a box.
    assert.equal(findAgentPid(1, fakeProc({ '2': [1, '2'] })), null)
  })

  test('finds nothing for a process that runs no box, in the real /proc', () => {
    assert.equal(findAgentPid(process.pid), null)
  })
})

describe('BoxSignals', () => {
  const exitOf = (child: ReturnType<typeof spawn>) =>
    new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    )

  test("passes a signal to the agent's PID, not to the process it started", async () => {
    const started = spawn('/bin/sh', ['-c', 'sleep 30'], { stdio: 'ignore' })
    const loop = 'trap "exit 7" INT; echo ready; while :; do sleep 0.05; done'
    const agent = spawn('/bin/sh', ['-c', loop], { stdio: ['ignore', 'pipe', 'ignore'] })
    // The trap is set once the shell says so.
    await new Promise((resolve) => agent.stdout.once('data', resolve))
    const signals = new BoxSignals(started, () => agent.pid ?? null)
    signals.setInitPid(1234)
    signals.deliver('SIGINT')

    assert.deepEqual(await exitOf(agent), [7, null])
    assert.equal(started.exitCode, null, 'the started process was left alone')
    assert.equal(signals.abortedBy, null)
    started.kill('SIGKILL')
  })

  test('before there is an agent, a signal ends the start; a resize does not', async () => {
    const started = spawn('/bin/sh', ['-c', 'sleep 30'], { stdio: 'ignore' })
    const signals = new BoxSignals(started, () => null)
    signals.deliver('SIGWINCH')
    assert.equal(signals.abortedBy, null)
    signals.deliver('SIGTERM')
    assert.deepEqual(await exitOf(started), [null, 'SIGKILL'])
    assert.equal(signals.abortedBy, 'SIGTERM')
  })
})
