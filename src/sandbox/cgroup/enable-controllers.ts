import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readControllers, type CgroupController } from './detect.js'

/** Writes one cgroup interface file; tests pass one that mimics the kernel's refusals. */
export type CgroupWrite = (path: string, text: string) => void

export const writeCgroupFile: CgroupWrite = (path, text) => writeFileSync(path, text)

/** Prefix of the leaf `tollgate run` moves itself into (see {@link enableControllers}). */
export const RUN_LEAF_PREFIX = 'tollgate-run-'

/** Prefix of each box's own cgroup. */
export const BOX_CGROUP_PREFIX = 'tollgate-'

/** Whether `dir`'s children can use the controllers, and why not. */
export type EnableResult = { ok: true } | { ok: false; reason: string }

/**
 * Turns `controllers` on for the children of our own cgroup `dir`. The kernel refuses that
 * (EBUSY) while `dir` itself holds processes ("no internal processes"): when the only one is
 * us, we move into a leaf `tollgate-run-<pid>` first, the usual way out. Any other process in
 * `dir` (the shell that started us) is not ours to move, and cgroup v2 is then not used.
 */
export function enableControllers(
  dir: string,
  controllers: CgroupController[],
  pid: number,
  write: CgroupWrite = writeCgroupFile,
): EnableResult {
  removeStaleLeaves(dir)
  const missing = missingInSubtree(dir, controllers)
  if (missing.length === 0) return { ok: true }

  const first = tryEnable(dir, missing, write)
  if (first === null) return { ok: true }
  if (first !== 'EBUSY') return refused(dir, missing, first)

  const others = processesIn(dir).filter((member) => member !== pid)
  if (others.length > 0) {
    const reason =
      `${dir} holds processes besides tollgate run (${others.length}), so it cannot enable ` +
      'controllers for a child; start tollgate run in a delegated cgroup of its own'
    return { ok: false, reason }
  }
  const leaf = join(dir, `${RUN_LEAF_PREFIX}${pid}`)
  const moved = attempt(() => {
    mkdirSync(leaf, { recursive: true })
    write(join(leaf, 'cgroup.procs'), String(pid))
  })
  if (moved !== null) return refused(dir, missing, `moving into ${leaf}: ${moved}`)
  const second = tryEnable(dir, missing, write)
  return second === null ? { ok: true } : refused(dir, missing, second)
}

function missingInSubtree(dir: string, controllers: CgroupController[]): CgroupController[] {
  const enabled = readControllers(join(dir, 'cgroup.subtree_control'))
  return controllers.filter((name) => !enabled.includes(name))
}

function tryEnable(dir: string, missing: CgroupController[], write: CgroupWrite): string | null {
  const text = missing.map((name) => `+${name}`).join(' ')
  return attempt(() => write(join(dir, 'cgroup.subtree_control'), text))
}

function refused(dir: string, missing: CgroupController[], code: string): EnableResult {
  const reason = `cannot enable ${missing.join(', ')} in ${dir}/cgroup.subtree_control: ${code}`
  return { ok: false, reason }
}

/** The error code of what `action` threw, or null when it did not throw. */
function attempt(action: () => void): string | null {
  try {
    action()
    return null
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error)
  }
}

function processesIn(dir: string): number[] {
  try {
    const text = readFileSync(join(dir, 'cgroup.procs'), 'utf8')
    return text.split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

// A run killed with SIGKILL leaves its empty leaf behind. Only leaves of processes that are
// gone are removed: a box cgroup of another run may be empty only because its box is starting.
function removeStaleLeaves(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(name.slice(RUN_LEAF_PREFIX.length))
    if (!name.startsWith(RUN_LEAF_PREFIX) || !Number.isSafeInteger(pid) || isAlive(pid)) continue
    attempt(() => rmdirSync(join(dir, name)))
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
