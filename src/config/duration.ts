import { TollgateError } from '../errors/tollgate-error.js'

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const

type Unit = keyof typeof UNIT_MS

const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)?$/

/** Largest units first, so `formatDuration` picks the shortest exact spelling. */
const UNITS_DESCENDING: Unit[] = ['d', 'h', 'm', 's', 'ms']

/**
 * Parses a duration as written in `tollgate.yaml` into milliseconds: `500ms`, `10s`, `5m`,
 * `24h`, `7d`, or a bare integer (or integer string) of milliseconds. Fractions, signs, spaces
 * and combined forms such as `1h30m` are refused rather than guessed at.
 *
 * @throws TollgateError `TOLLGATE_INVALID_ARGUMENT` when the value is not a duration.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return checkedMilliseconds(value)

  const match = DURATION_PATTERN.exec(value)
  if (!match?.[1]) throw invalidDuration()

  const unit: Unit = (match[2] as Unit | undefined) ?? 'ms'
  return checkedMilliseconds(Number(match[1]) * UNIT_MS[unit])
}

/** Whether `value` is something `parseDuration` accepts. */
export function isDuration(value: unknown): value is string | number {
  if (typeof value !== 'string' && typeof value !== 'number') return false

  try {
    parseDuration(value)
    return true
  } catch {
    return false
  }
}

/**
 * Formats milliseconds with the largest unit that divides them exactly, so that
 * `parseDuration(formatDuration(ms)) === ms` for every non-negative safe integer.
 */
export function formatDuration(ms: number): string {
  checkedMilliseconds(ms)

  for (const unit of UNITS_DESCENDING) {
    const size = UNIT_MS[unit]
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`
  }
  return '0ms'
}

function checkedMilliseconds(ms: number): number {
  // Past 2^53 arithmetic on milliseconds silently loses precision.
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalidDuration()
  return ms
}

function invalidDuration(): TollgateError {
  return new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    'a duration must be a whole number with an optional unit: ms, s, m, h or d (e.g. 10s)',
  )
}
