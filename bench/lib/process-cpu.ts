import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** CPU time of a process tree at one moment: clock ticks (utime + stime) per PID. */
export type CpuSnapshot = Map<number, number>

interface ProcStat {
  pid: number
  ppid: number
  ticks: number
}

/**
 * Reads CPU ticks of a process and all its descendants from `/proc/<pid>/stat`.
 *
 * A PID's utime and stime already sum all its threads, so a Node process with worker threads
 * counts once. Processes that exit between two snapshots lose their last ticks; the servers
 * measured here keep their workers for the whole run, so nothing is lost in practice.
 */
export function snapshotTreeCpu(rootPid: number): CpuSnapshot {
  const all = readAllStats()
  const tree = descendantsOf(rootPid, all)

  return new Map(tree.map((stat) => [stat.pid, stat.ticks]))
}

/** Ticks spent by the tree between two snapshots; PIDs born in between count from zero. */
export function ticksBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let total = 0

  for (const [pid, ticks] of after) total += ticks - (before.get(pid) ?? 0)
  return total
}

/** The kernel's clock ticks per second (`getconf CLK_TCK`), usually 100. */
export function clockTicksPerSecond(): number {
  const text = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()
  const ticks = Number(text)

  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`odd CLK_TCK: ${text}`)
  return ticks
}

function readAllStats(): ProcStat[] {
  const stats: ProcStat[] = []

  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(Number(entry))
    if (stat) stats.push(stat)
  }
  return stats
}

/** Parses one stat line; `null` when the process vanished while we were reading. */
function readStat(pid: number): ProcStat | null {
  let line: string
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  return parseStatLine(pid, line)
}

/**
 * The command name (field 2) is in parentheses and may itself hold spaces or parentheses, so
 * fields are counted from the last `)`; after it come state, ppid, ..., utime (14), stime (15).
 */
export function parseStatLine(pid: number, line: string): ProcStat | null {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ')

  const ppid = Number(fields[1])
  const utime = Number(fields[11])
  const stime = Number(fields[12])

  if ([ppid, utime, stime].some((n) => !Number.isFinite(n))) return null
  return { pid, ppid, ticks: utime + stime }
}

function descendantsOf(rootPid: number, all: ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>()
  for (const stat of all) {
    const siblings = byParent.get(stat.ppid)
    if (siblings) siblings.push(stat)
    else byParent.set(stat.ppid, [stat])
  }

  const root = all.find((stat) => stat.pid === rootPid)
  if (!root) return []

  const found: ProcStat[] = [root]
  for (let i = 0; i < found.length; i++) {
    const current = found[i]
    if (current) found.push(...(byParent.get(current.pid) ?? []))
  }
  return found
}
