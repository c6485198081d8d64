import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { join, relative, isAbsolute } from 'node:path'

/** The cgroup v2 controllers a box's limits can need. */
export type CgroupController = 'memory' | 'pids' | 'cpu'

/** Where a process learns its mounts and its own cgroup; tests point these at files of theirs. */
export interface ProcPaths {
  /** `/proc/self/mountinfo`: where the unified (cgroup2) hierarchy is mounted. */
  mountinfo: string
  /** `/proc/self/cgroup`: the `0::/path` line names this process's cgroup v2 group. */
  selfCgroup: string
}

export const HOST_PROC_PATHS: ProcPaths = {
  mountinfo: '/proc/self/mountinfo',
  selfCgroup: '/proc/self/cgroup',
}

/** Whether cgroup v2 can hold a box here: the directory of our own cgroup, or why not. */
export type CgroupSupport = { usable: true; dir: string } | { usable: false; reason: string }

interface Mount {
  /** The mounted subtree of the hierarchy (`/` unless a subtree was bind-mounted). */
  root: string
  point: string
  type: string
}

/**
 * Read-only check that this process can create a child cgroup under its own one and limit it
 * with `controllers`: the unified hierarchy is mounted, we are in it, the controllers reach our
 * cgroup, and we may write to it. Enabling the controllers for children is a separate step
 * ({@link enableControllers}), since it changes the host.
 */
export function detectCgroup2(paths: ProcPaths, controllers: CgroupController[]): CgroupSupport {
  const mounts = readMounts(paths.mountinfo)
  const unified = mounts.find((mount) => mount.type === 'cgroup2')
  if (unified === undefined) {
    return { usable: false, reason: 'no cgroup v2 hierarchy is mounted (the host uses cgroup v1)' }
  }

  const own = ownCgroupPath(paths.selfCgroup)
  if (own === null) {
    return { usable: false, reason: 'this process is in no cgroup v2 group (no 0:: line)' }
  }
  const inMount = relative(unified.root, own)
  if (inMount.startsWith('..') || isAbsolute(inMount)) {
    return { usable: false, reason: `our cgroup ${own} lies outside the mounted hierarchy` }
  }
  const dir = join(unified.point, inMount)

  const missing = missingControllers(dir, controllers)
  if (missing.length > 0) return { usable: false, reason: missingReason(dir, missing, mounts) }
  if (!isWritable(dir)) {
    return { usable: false, reason: `${dir} is not writable by us (not a delegated cgroup)` }
  }
  return { usable: true, dir }
}

// mountinfo fields: id parent major:minor root mount-point options [optional...] - type source
function readMounts(path: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of readText(path).split('\n')) {
    const fields = line.split(' ')
    const dash = fields.indexOf('-')
    const [root, point] = [fields[3], fields[4]]
    const type = fields[dash + 1]
    if (dash < 0 || root === undefined || point === undefined || type === undefined) continue
    mounts.push({ root: unescapeMountPath(root), point: unescapeMountPath(point), type })
  }
  return mounts
}

// The kernel writes space, tab, newline and backslash in paths as octal escapes.
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  )
}

/** The path of this process's cgroup v2 group (`0::/path`), or null when it has none. */
export function ownCgroupPath(selfCgroup: string): string | null {
  const line = readText(selfCgroup)
    .split('\n')
    .find((entry) => entry.startsWith('0::'))
  return line === undefined ? null : line.slice(3)
}

/** The controllers listed in a cgroup's `cgroup.controllers` (or `subtree_control`). */
export function readControllers(file: string): string[] {
  return readText(file).split(/\s+/).filter(Boolean)
}

function missingControllers(dir: string, wanted: CgroupController[]): CgroupController[] {
  const file = join(dir, 'cgroup.controllers')
  if (!existsSync(file)) return wanted
  const available = readControllers(file)
  return wanted.filter((name) => !available.includes(name))
}

// On a hybrid host the unified hierarchy exists but the controllers are bound to v1 mounts.
function missingReason(dir: string, missing: CgroupController[], mounts: Mount[]): string {
  const reason = `the cgroup v2 controllers ${missing.join(', ')} are not available in ${dir}`
  const hasV1 = mounts.some((mount) => mount.type === 'cgroup')
  return hasV1 ? `${reason} (the host binds them to cgroup v1)` : reason
}

// Moving a process between two cgroups needs write access to cgroup.procs of their common
// ancestor, which for our own child cgroups is our own cgroup.
function isWritable(dir: string): boolean {
  const files = [dir, join(dir, 'cgroup.procs'), join(dir, 'cgroup.subtree_control')]
  try {
    for (const file of files) accessSync(file, constants.W_OK)
    return true
  } catch {
    return false
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
