import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  BoxCgroup,
  cgroupLauncher,
  cgroupLimitFiles,
  cpuMax,
  readOomKills,
} from '../../../../src/sandbox/cgroup/box-cgroup.js'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { NO_LIMITS, type SandboxLimits } from '../../../../src/sandbox/sandbox-limits.js'
import { FakeCgroupTree } from './fake-cgroup-tree.js'

const ID = 'sbx_0123456789abcdef'
const LIMITED: SandboxLimits = {
  ...NO_LIMITS,
  mechanism: 'cgroup2',
  memoryBytes: 64 * 1024 * 1024,
  pids: 32,
  cpus: 0.5,
  cpuSeconds: 10,
  wallSeconds: 60,
}

describe("a box's own cgroup", () => {
  const fake = new FakeCgroupTree({ procs: [] })
  after(() => fake.remove())

  test('the limits become memory.max, pids.max and cpu.max', () => {
    assert.deepEqual(cgroupLimitFiles(LIMITED), [
      ['memory.max', '67108864'],
      ['pids.max', '32'],
      ['cpu.max', '50000 100000'],
    ])
    assert.deepEqual(cgroupLimitFiles({ ...NO_LIMITS, mechanism: 'cgroup2' }), [])
    assert.equal(cpuMax(2), '200000 100000')
    assert.equal(cpuMax(0.01), '1000 100000')
    assert.equal(cpuMax(1.25), '125000 100000')
  })

  test('create writes each limit, and swap off with a memory limit, into tollgate-<id>', () => {
    const cgroup = BoxCgroup.create(fake.ownDir, ID, LIMITED)
    assert.equal(cgroup.dir, join(fake.ownDir, `tollgate-${ID}`))
    assert.equal(cgroup.procsFile, join(cgroup.dir, 'cgroup.procs'))
    assert.equal(fake.read('memory.max', cgroup.dir), '67108864')
    assert.equal(fake.read('memory.swap.max', cgroup.dir), '0')
    assert.equal(fake.read('pids.max', cgroup.dir), '32')
    assert.equal(fake.read('cpu.max', cgroup.dir), '50000 100000')
    rmSync(cgroup.dir, { recursive: true })
  })

  test('without a memory limit nothing about memory or swap is written', () => {
    const cgroup = BoxCgroup.create(fake.ownDir, ID, { ...LIMITED, memoryBytes: null })
    assert.ok(!existsSync(join(cgroup.dir, 'memory.max')))
    assert.ok(!existsSync(join(cgroup.dir, 'memory.swap.max')))
    rmSync(cgroup.dir, { recursive: true })
  })

  test('a limit that cannot be written stops the box and leaves no cgroup', () => {
    const refuse = () => {
      throw Object.assign(new Error('invalid'), { code: 'EINVAL' })
    }
    assert.throws(
      () => BoxCgroup.create(fake.ownDir, ID, LIMITED, refuse),
      (error) =>
        isTollgateError(error) && /could not set up the sandbox's cgroup/.test(error.message),
    )
    assert.ok(!existsSync(join(fake.ownDir, `tollgate-${ID}`)))
  })

  test('finish reads oom_kill, uses cgroup.kill, and removes the emptied cgroup', async () => {
    const cgroup = BoxCgroup.create(fake.ownDir, ID, NO_LIMITS)
    assert.deepEqual(await cgroup.finish(), { oomKills: 0, removed: true })
    assert.ok(!existsSync(cgroup.dir))

    // A cgroup that is never emptied is reported as left behind, after bounded retries.
    const stuck = BoxCgroup.create(fake.ownDir, ID, NO_LIMITS)
    fake.put('memory.events', 'low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n', stuck.dir)
    fake.put('cgroup.kill', '', stuck.dir)
    assert.deepEqual(await stuck.finish(2), { oomKills: 2, removed: false })
    assert.equal(fake.read('cgroup.kill', stuck.dir), '1')
    rmSync(stuck.dir, { recursive: true })
  })

  test('readOomKills is 0 for a missing file or one without the line', () => {
    assert.equal(readOomKills(join(fake.dir, 'absent')), 0)
    writeFileSync(join(fake.dir, 'events'), 'oom 1\noom_group_kill 0\n')
    assert.equal(readOomKills(join(fake.dir, 'events')), 0)
  })
})

describe('the launcher that starts bwrap inside the cgroup', () => {
  const fake = new FakeCgroupTree({ procs: [] })
  after(() => fake.remove())

  test('its argv is sh -c SCRIPT PROCS BWRAP ARGS...', () => {
    const launcher = cgroupLauncher('/cg/x/cgroup.procs', '/usr/bin/bwrap', ['--a', 'b c'])
    assert.equal(launcher.file, '/bin/sh')
    assert.deepEqual(launcher.args.slice(2), ['/cg/x/cgroup.procs', '/usr/bin/bwrap', '--a', 'b c'])
    assert.equal(launcher.args[0], '-c')
  })

  test('the pid written is the very process that then runs the program', () => {
    const procs = join(fake.dir, 'procs')
    const program = ['-c', 'echo "pid=$$ args=$1"', 'prog', 'one arg']
    const launcher = cgroupLauncher(procs, '/bin/sh', program)
    const result = spawnSync(launcher.file, launcher.args, { encoding: 'utf8' })
    assert.equal(result.status, 0, result.stderr)
    const written = readFileSync(procs, 'utf8').trim()
    assert.match(written, /^\d+$/)
    assert.equal(result.stdout, `pid=${written} args=one arg\n`)
  })

  test('when the pid cannot be written the program does not run (status 125)', () => {
    const procs = join(fake.dir, 'missing-dir', 'cgroup.procs')
    const launcher = cgroupLauncher(procs, '/bin/echo', ['ran'])
    const result = spawnSync(launcher.file, launcher.args, { encoding: 'utf8' })
    assert.equal(result.status, 125)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /could not enter the sandbox's cgroup/)
  })
})
