import { readFileSync } from 'node:fs'

/** The machine's CPU time at one moment, in clock ticks summed over all CPUs. */
export interface MachineCpu {
  /** Every state: user, nice, system, idle, iowait, irq, softirq and steal. */
  total: number
  /** Time the hypervisor gave this machine's CPUs to someone else. */
  steal: number
}

/**
 * Reads the first (`cpu `, all CPUs) line of `/proc/stat`. On a virtual machine a busy host
 * takes CPU time away while a scenario runs, and every number of that scenario suffers; the
 * steal share says how much, so a row measured on a starved machine can be told apart.
 */
export function readMachineCpu(stat = readFileSync('/proc/stat', 'utf8')): MachineCpu | null {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '))
  if (line === undefined) return null

  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already
  // counted in user, so it is left out of the total.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null
  return { total: fields.reduce((sum, n) => sum + n, 0), steal: fields[7] ?? 0 }
}

/** Percent of all CPU time stolen between two readings; null when either is missing. */
export function stealPercent(before: MachineCpu | null, after: MachineCpu | null): number | null {
  if (before === null || after === null) return null
  const total = after.total - before.total
  if (total <= 0) return null
  return ((after.steal - before.steal) / total) * 100
}
