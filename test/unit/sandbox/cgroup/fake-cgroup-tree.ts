import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProcPaths } from '../../../../src/sandbox/cgroup/detect.js'
import type { CgroupWrite } from '../../../../src/sandbox/cgroup/enable-controllers.js'

/** Mount lines of a host like the development one: cgroup v1 controllers, no unified tree. */
export const V1_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
]

/**
 * A cgroup tree in a temporary directory, with the `/proc/self` files that point at it: the
 * unified hierarchy "mounted" at `<dir>/cg`, this process in `/user/app`. Regular files stand in
 * for the kernel's interface files, so only what Tollgate writes can be checked, not what the
 * kernel would do with it.
 */
export class FakeCgroupTree {
  readonly dir = mkdtempSync(join(tmpdir(), 'tollgate-cgroup-'))
  readonly mountPoint = join(this.dir, 'cg')
  readonly proc: ProcPaths = {
    mountinfo: join(this.dir, 'mountinfo'),
    selfCgroup: join(this.dir, 'cgroup'),
  }

  constructor(options: { own?: string; controllers?: string; procs?: number[] } = {}) {
    const own = options.own ?? '/user/app'
    this.setMounts([...V1_MOUNTS, this.unifiedMount('/')])
    writeFileSync(this.proc.selfCgroup, `4:memory:/x\n0::${own}\n`)
    mkdirSync(this.ownDir, { recursive: true })
    this.put('cgroup.controllers', `${options.controllers ?? 'cpuset cpu io memory pids'}\n`)
    this.put('cgroup.subtree_control', '')
    this.put('cgroup.procs', (options.procs ?? [process.pid]).map((pid) => `${pid}\n`).join(''))
  }

  get ownDir(): string {
    const own = /^0::(.*)$/m.exec(readFileSync(this.proc.selfCgroup, 'utf8'))?.[1] ?? '/'
    return join(this.mountPoint, own)
  }

  /** A mountinfo line for the unified hierarchy; `root` is the subtree that is mounted. */
  unifiedMount(root: string, point = this.mountPoint): string {
    return `41 31 0:38 ${root} ${point.replace(/ /g, '\\040')} rw - cgroup2 cgroup2 rw`
  }

  setMounts(lines: string[]): void {
    writeFileSync(this.proc.mountinfo, `${lines.join('\n')}\n`)
  }

  put(name: string, text: string, dir = this.ownDir): void {
    writeFileSync(join(dir, name), text)
  }

  read(name: string, dir = this.ownDir): string {
    return readFileSync(join(dir, name), 'utf8')
  }

  /**
   * A writer that refuses as the kernel does: enabling controllers while the cgroup holds
   * processes is EBUSY, and a write to a leaf's cgroup.procs moves that pid out of its parent.
   */
  kernelLikeWrite(calls: string[] = []): CgroupWrite {
    return (path, text) => {
      calls.push(`${path}=${text}`)
      const dir = join(path, '..')
      if (path.endsWith('cgroup.subtree_control') && this.read('cgroup.procs', dir).trim()) {
        throw Object.assign(new Error('busy'), { code: 'EBUSY' })
      }
      if (path.endsWith('cgroup.procs')) {
        const parent = join(dir, '..')
        const rest = this.read('cgroup.procs', parent).split('\n')
        this.put('cgroup.procs', rest.filter((pid) => pid && pid !== text).join('\n'), parent)
      }
      writeFileSync(path, text)
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
