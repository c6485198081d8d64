import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decideMechanism,
  type CgroupHost,
} from '../../../../src/sandbox/cgroup/limits-mechanism.js'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import {
  isSandboxLimits,
  NO_LIMITS,
  parseCpus,
  wrapperRlimits,
  type SandboxLimits,
} from '../../../../src/sandbox/sandbox-limits.js'
import { FakeCgroupTree, V1_MOUNTS } from './fake-cgroup-tree.js'

const MEMORY: SandboxLimits = { ...NO_LIMITS, memoryBytes: 1 << 26, pids: 16 }

function invalidArgument(pattern: RegExp) {
  return (error: unknown) =>
    isTollgateError(error) &&
    error.code === 'TOLLGATE_INVALID_ARGUMENT' &&
    pattern.test(error.message)
}

describe('choosing how limits are enforced', () => {
  const usable = new FakeCgroupTree({ procs: [] })
  const v1 = new FakeCgroupTree()
  v1.setMounts(V1_MOUNTS)
  after(() => [usable, v1].forEach((tree) => tree.remove()))
  const host = (tree: FakeCgroupTree): CgroupHost => ({ proc: tree.proc, pid: 4242 })

  test('auto takes cgroup v2 where usable and enables memory and pids for the box', () => {
    const decision = decideMechanism('auto', MEMORY, host(usable))
    assert.equal(decision.parentDir, usable.ownDir)
    assert.deepEqual(decision.limits, { ...MEMORY, mechanism: 'cgroup2', fallbackReason: null })
    assert.equal(usable.read('cgroup.subtree_control'), '+memory +pids')
  })

  test('--cpus adds the cpu controller', () => {
    usable.put('cgroup.subtree_control', 'memory pids')
    const decision = decideMechanism('cgroup2', { ...MEMORY, cpus: 0.5 }, host(usable))
    assert.equal(decision.limits.mechanism, 'cgroup2')
    assert.equal(usable.read('cgroup.subtree_control'), '+cpu')
  })

  test('auto falls back to rlimits on a cgroup v1 host and records why', () => {
    const decision = decideMechanism('auto', MEMORY, host(v1))
    assert.equal(decision.parentDir, null)
    assert.deepEqual(decision.limits, {
      ...MEMORY,
      mechanism: 'rlimit',
      fallbackReason: 'no cgroup v2 hierarchy is mounted (the host uses cgroup v1)',
    })
  })

  test('cgroup2 where it is unusable is an error naming the reason', () => {
    assert.throws(
      () => decideMechanism('cgroup2', MEMORY, host(v1)),
      invalidArgument(/^--limits-mechanism cgroup2: .*no cgroup v2 hierarchy is mounted/),
    )
  })

  test('--cpus without cgroup v2 is an error, never a box without the limit', () => {
    const cpus = { ...MEMORY, cpus: 1 }
    assert.throws(() => decideMechanism('auto', cpus, host(v1)), invalidArgument(/^--cpus needs/))
    assert.throws(
      () => decideMechanism('rlimit', cpus, host(usable)),
      invalidArgument(/--limits-mechanism rlimit/),
    )
  })

  test('rlimit is taken as asked, without looking at the host', () => {
    const decision = decideMechanism('rlimit', MEMORY, { proc: v1.proc, pid: 1 })
    assert.equal(decision.limits.mechanism, 'rlimit')
    assert.equal(decision.limits.fallbackReason, 'asked for with --limits-mechanism rlimit')
  })
})

describe('limits records', () => {
  test('under cgroup2 the wrapper sets no RLIMIT_AS or RLIMIT_NPROC; under rlimit it does', () => {
    const limits = { ...MEMORY, cpuSeconds: 5 }
    assert.deepEqual(wrapperRlimits({ ...limits, mechanism: 'cgroup2' }), {
      ...limits,
      mechanism: 'cgroup2',
      memoryBytes: null,
      pids: null,
    })
    assert.deepEqual(wrapperRlimits(limits), limits)
  })

  test('the control API accepts only a mechanism, a reason and a CPU share that fit', () => {
    assert.ok(isSandboxLimits(NO_LIMITS))
    assert.ok(isSandboxLimits({ ...NO_LIMITS, mechanism: 'cgroup2', cpus: 0.5 }))
    assert.ok(!isSandboxLimits({ ...NO_LIMITS, cpus: 0.5 }), 'a CPU share under rlimit')
    assert.ok(!isSandboxLimits({ ...NO_LIMITS, mechanism: 'cgroup' }))
    assert.ok(!isSandboxLimits({ ...NO_LIMITS, fallbackReason: 7 }))
    const withoutMechanism: Partial<SandboxLimits> = { ...NO_LIMITS }
    delete withoutMechanism.mechanism
    assert.ok(!isSandboxLimits(withoutMechanism))
  })

  test('--cpus takes decimals from 0.01', () => {
    assert.equal(parseCpus('0.5'), 0.5)
    assert.equal(parseCpus('2'), 2)
    for (const bad of ['0', '0.001', '-1', 'half', '1e3', '']) {
      assert.throws(() => parseCpus(bad), invalidArgument(/number of CPUs/), bad)
    }
  })
})
