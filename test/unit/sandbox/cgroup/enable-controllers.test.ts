import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { enableControllers } from '../../../../src/sandbox/cgroup/enable-controllers.js'
import { FakeCgroupTree } from './fake-cgroup-tree.js'

describe('enabling the controllers for the box cgroups', () => {
  const trees: FakeCgroupTree[] = []
  const tree = (options?: ConstructorParameters<typeof FakeCgroupTree>[0]) => {
    const made = new FakeCgroupTree(options)
    trees.push(made)
    return made
  }
  after(() => trees.forEach((made) => made.remove()))

  test('missing controllers are written to cgroup.subtree_control in one write', () => {
    const fake = tree({ procs: [] })
    const calls: string[] = []
    const result = enableControllers(fake.ownDir, ['memory', 'pids'], 4242, (path, text) => {
      calls.push(`${path}=${text}`)
      fake.put('cgroup.subtree_control', text)
    })
    assert.deepEqual(result, { ok: true })
    assert.deepEqual(calls, [`${join(fake.ownDir, 'cgroup.subtree_control')}=+memory +pids`])
  })

  test('controllers already enabled are not written again', () => {
    const fake = tree({ procs: [] })
    fake.put('cgroup.subtree_control', 'cpu memory pids\n')
    const calls: string[] = []
    const result = enableControllers(fake.ownDir, ['memory', 'pids', 'cpu'], 4242, (path) => {
      calls.push(path)
    })
    assert.deepEqual(result, { ok: true })
    assert.deepEqual(calls, [])
  })

  test('EBUSY with only us inside: we move into a leaf, then the controllers go on', () => {
    const pid = 4242
    const fake = tree({ procs: [pid] })
    const calls: string[] = []
    const result = enableControllers(
      fake.ownDir,
      ['memory', 'pids'],
      pid,
      fake.kernelLikeWrite(calls),
    )
    assert.deepEqual(result, { ok: true })

    const leaf = join(fake.ownDir, `tollgate-run-${pid}`)
    assert.equal(fake.read('cgroup.procs', leaf), String(pid))
    assert.equal(fake.read('cgroup.procs').trim(), '')
    assert.equal(fake.read('cgroup.subtree_control'), '+memory +pids')
    assert.equal(calls.length, 3, calls.join('\n'))
  })

  test('EBUSY with other processes inside: no move, and the reason says why', () => {
    const fake = tree({ procs: [4242, 17] })
    const result = enableControllers(fake.ownDir, ['memory'], 4242, fake.kernelLikeWrite())
    assert.equal(result.ok, false)
    assert.match(!result.ok ? result.reason : '', /holds processes besides tollgate run \(1\)/)
    assert.ok(!existsSync(join(fake.ownDir, 'tollgate-run-4242')))
    assert.equal(fake.read('cgroup.procs'), '4242\n17\n')
  })

  test('any other refusal is reported with its code', () => {
    const fake = tree({ procs: [] })
    const result = enableControllers(fake.ownDir, ['memory', 'pids'], 4242, () => {
      throw Object.assign(new Error('denied'), { code: 'EACCES' })
    })
    assert.deepEqual(result, {
      ok: false,
      reason: `cannot enable memory, pids in ${fake.ownDir}/cgroup.subtree_control: EACCES`,
    })
  })

  test('an empty leaf of a run that is gone is removed; a live run keeps its leaf', () => {
    const fake = tree({ procs: [] })
    fake.put('cgroup.subtree_control', 'memory pids')
    // Pids near the 2^22 maximum are not in use on a test machine; ours certainly is.
    const gone = join(fake.ownDir, 'tollgate-run-4194000')
    const live = join(fake.ownDir, `tollgate-run-${process.pid}`)
    const box = join(fake.ownDir, 'tollgate-sbx_0123456789abcdef')
    for (const dir of [gone, live, box]) mkdirSync(dir)
    enableControllers(fake.ownDir, ['memory'], process.pid)
    assert.ok(!existsSync(gone))
    assert.ok(existsSync(live))
    assert.ok(existsSync(box), "another run's box cgroup is not ours to remove")
  })
})
