import { TollgateError } from '../errors/tollgate-error.js'

/**
 * Resource limits of one sandbox. Each is enforced as a POSIX rlimit set by the box's own
 * `/bin/sh` wrapper just before it execs the agent (`ulimit -v`, `-u`, `-t`), and the wall
 * time by `tollgate run`, which kills the box when it is up. Null means no limit.
 */
export interface SandboxLimits {
  /** Address space per process, in bytes (RLIMIT_AS; not a cgroup memory limit). */
  memoryBytes: number | null
  /** Processes of the box's user (RLIMIT_NPROC; see docs/sandbox.md for its caveats). */
  pids: number | null
  /** CPU time per process, in seconds (RLIMIT_CPU). */
  cpuSeconds: number | null
  /** Wall-clock lifetime of the whole box, in seconds. */
  wallSeconds: number | null
}

export const NO_LIMITS: SandboxLimits = {
  memoryBytes: null,
  pids: null,
  cpuSeconds: null,
  wallSeconds: null,
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }
const TIME_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 }

/** Parses `512m`, `2g`, `1048576` (bytes). */
export function parseSize(text: string): number {
  const match = /^(\d+)([kmg]?)b?$/i.exec(text.trim())
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'x']
  if (!match?.[1] || unit === undefined) throw invalid('a size', text, '512m')
  return positive(Number(match[1]) * unit, text)
}

/** Parses `90`, `90s`, `10m`, `1h` into seconds. */
export function parseSeconds(text: string): number {
  const match = /^(\d+)([smh]?)$/i.exec(text.trim())
  const unit = TIME_UNITS[match?.[2]?.toLowerCase() ?? 'x']
  if (!match?.[1] || unit === undefined) throw invalid('a duration', text, '10m')
  return positive(Number(match[1]) * unit, text)
}

/** Parses a positive whole number (`--pids 64`). */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw invalid('a whole number', text, '64')
  return positive(Number(text), text)
}

function positive(value: number, text: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid('a positive value', text, '1')
  return value
}

function invalid(what: string, text: string, example: string): TollgateError {
  return new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    `expected ${what} (e.g. ${example}), got ${JSON.stringify(text)}`,
  )
}

/** Whether a value read from the control API is a well-formed limits object. */
export function isSandboxLimits(value: unknown): value is SandboxLimits {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return Object.keys(NO_LIMITS).every((key) => {
    const limit = record[key]
    return limit === null || (typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0)
  })
}
