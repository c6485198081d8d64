import { isSize, parseSize as parseConfigSize } from '../config/size.js'
import { TollgateError } from '../errors/tollgate-error.js'

/** How the memory, process and CPU limits are enforced (see docs/sandbox.md#limits). */
export type LimitsMechanism = 'cgroup2' | 'rlimit'

/**
 * Resource limits of one sandbox and how they are enforced. Under `cgroup2` the box's own
 * cgroup caps the box as a whole (memory.max, pids.max, cpu.max); under `rlimit` the box's
 * `/bin/sh` wrapper sets POSIX rlimits per process just before it execs the agent (`ulimit -v`,
 * `-u`). CPU seconds are an rlimit under both; the wall time is kept by `tollgate run`, which
 * kills the box when it is up. Null means no limit.
 */
export interface SandboxLimits {
  /** cgroup2: the box's memory, swap excluded; rlimit: address space per process (RLIMIT_AS). */
  memoryBytes: number | null
  /** cgroup2: the box's processes and threads; rlimit: processes of the user (RLIMIT_NPROC). */
  pids: number | null
  /** CPU time per process, in seconds (RLIMIT_CPU). */
  cpuSeconds: number | null
  /** CPU bandwidth of the whole box, in CPUs (cpu.max); cgroup2 only. */
  cpus: number | null
  /** Wall-clock lifetime of the whole box, in seconds. */
  wallSeconds: number | null
  mechanism: LimitsMechanism
  /** Why cgroup v2 is not used, when `mechanism` is `rlimit`; null otherwise. */
  fallbackReason: string | null
}

const NUMERIC_LIMITS = ['memoryBytes', 'pids', 'cpuSeconds', 'cpus', 'wallSeconds'] as const

export const NO_LIMITS: SandboxLimits = {
  memoryBytes: null,
  pids: null,
  cpuSeconds: null,
  cpus: null,
  wallSeconds: null,
  mechanism: 'rlimit',
  fallbackReason: null,
}

/**
 * The limits the box's shell wrapper sets as rlimits. Under cgroup2 the cgroup carries memory
 * and processes: RLIMIT_AS would also refuse runtimes that reserve far more address space than
 * they use (V8, Go, the JVM), and RLIMIT_NPROC counts the user's processes outside the box.
 */
export function wrapperRlimits(limits: SandboxLimits): SandboxLimits {
  if (limits.mechanism === 'rlimit') return limits
  return { ...limits, memoryBytes: null, pids: null }
}

const TIME_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 }

/**
 * Parses `512m`, `2G`, `1kb`, `1048576` (bytes): the sizes of `tollgate.yaml`, read more
 * leniently on the command line (any case, an optional trailing `b`).
 */
export function parseSize(text: string): number {
  const size = text.trim().toLowerCase().replace(/b$/, '')
  if (!isSize(size)) throw invalid('a size', text, '512m')
  return positive(parseConfigSize(size), text)
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

/** The smallest `--cpus`: the kernel refuses a cpu.max quota under 1 ms per 100 ms period. */
export const MIN_CPUS = 0.01

/** Parses a share of CPUs (`--cpus 0.5`, `2`). */
export function parseCpus(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN
  if (!(value >= MIN_CPUS)) throw invalid(`a number of CPUs of at least ${MIN_CPUS}`, text, '0.5')
  return value
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
  const numbersOk = NUMERIC_LIMITS.every((key) => {
    const limit = record[key]
    if (limit === null) return true
    if (typeof limit !== 'number') return false
    return key === 'cpus' ? limit >= MIN_CPUS : Number.isSafeInteger(limit) && limit > 0
  })
  const reason = record['fallbackReason']
  // No rlimit carries a CPU share: a record claiming one under rlimit would be untrue.
  const mechanismOk =
    record['mechanism'] === 'cgroup2' ||
    (record['mechanism'] === 'rlimit' && record['cpus'] === null)
  return numbersOk && mechanismOk && (reason === null || typeof reason === 'string')
}
