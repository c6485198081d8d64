import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { detectCgroup2, ownCgroupPath } from '../../../../src/sandbox/cgroup/detect.js'
import { FakeCgroupTree, V1_MOUNTS } from './fake-cgroup-tree.js'

describe('cgroup v2 detection against a fake tree', () => {
  const trees: FakeCgroupTree[] = []
  const tree = (options?: ConstructorParameters<typeof FakeCgroupTree>[0]) => {
    const made = new FakeCgroupTree(options)
    trees.push(made)
    return made
  }
  after(() => trees.forEach((made) => made.remove()))

  test('a host with only cgroup v1 mounts is not usable, and the reason says so', () => {
    const fake = tree()
    fake.setMounts(V1_MOUNTS)
    const support = detectCgroup2(fake.proc, ['memory', 'pids'])
    assert.deepEqual(support, {
      usable: false,
      reason: 'no cgroup v2 hierarchy is mounted (the host uses cgroup v1)',
    })
  })

  test('a hybrid host whose unified tree has no controllers names the missing ones', () => {
    const fake = tree({ own: '/', controllers: 'hugetlb' })
    const support = detectCgroup2(fake.proc, ['memory', 'pids', 'cpu'])
    assert.equal(support.usable, false)
    assert.equal(
      !support.usable && support.reason,
      `the cgroup v2 controllers memory, pids, cpu are not available in ${fake.mountPoint} ` +
        '(the host binds them to cgroup v1)',
    )
  })

  test('only the controllers asked for must be there', () => {
    const fake = tree({ controllers: 'memory pids' })
    assert.equal(detectCgroup2(fake.proc, ['memory', 'pids']).usable, true)
    const withCpu = detectCgroup2(fake.proc, ['memory', 'pids', 'cpu'])
    assert.match(!withCpu.usable ? withCpu.reason : '', /controllers cpu are not available/)
  })

  test('a usable tree yields our own cgroup directory under the mount point', () => {
    const fake = tree()
    const support = detectCgroup2(fake.proc, ['memory', 'pids', 'cpu'])
    assert.deepEqual(support, { usable: true, dir: join(fake.mountPoint, 'user', 'app') })
  })

  test('a mounted subtree is followed; a cgroup outside it is not usable', () => {
    const fake = tree({ own: '/user/app' })
    const point = join(fake.dir, 'sub tree')
    mkdirSync(join(point, 'app'), { recursive: true })
    fake.setMounts([fake.unifiedMount('/user', point)])
    fake.put('cgroup.controllers', 'memory pids', join(point, 'app'))
    fake.put('cgroup.subtree_control', '', join(point, 'app'))
    fake.put('cgroup.procs', '', join(point, 'app'))
    assert.deepEqual(detectCgroup2(fake.proc, ['memory']), {
      usable: true,
      dir: join(point, 'app'),
    })

    fake.setMounts([fake.unifiedMount('/other', point)])
    const outside = detectCgroup2(fake.proc, ['memory'])
    assert.match(!outside.usable ? outside.reason : '', /lies outside the mounted hierarchy/)
  })

  test('a process with no 0:: line is in no cgroup v2 group', () => {
    const fake = tree()
    fake.put('cgroup', '4:memory:/x\n', fake.dir)
    const support = detectCgroup2(fake.proc, ['memory'])
    assert.match(!support.usable ? support.reason : '', /no cgroup v2 group/)
    assert.equal(ownCgroupPath(fake.proc.selfCgroup), null)
  })

  test(
    'a cgroup we cannot write to is not delegated to us',
    {
      skip: process.getuid?.() === 0 && 'root may write to any file',
    },
    () => {
      const fake = tree()
      chmodSync(join(fake.ownDir, 'cgroup.procs'), 0o444)
      const support = detectCgroup2(fake.proc, ['memory'])
      assert.match(!support.usable ? support.reason : '', /not writable by us/)
    },
  )
})
