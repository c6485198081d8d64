import { TollgateError } from '../errors/tollgate-error.js'

const UNIT_BYTES = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
} as const

type Unit = keyof typeof UNIT_BYTES

const SIZE_PATTERN = /^(\d+)([kmg])?$/

/**
 * Parses a size as written in `tollgate.yaml` into bytes: `512k`, `32m`, `1g` (powers of 1024),
 * or a bare integer (or integer string) of bytes. Fractions, signs, spaces and other units
 * (`32MB`, `1.5m`) are refused rather than guessed at, the same way durations are.
 *
 * @throws TollgateError `TOLLGATE_INVALID_ARGUMENT` when the value is not a size.
 */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return checkedBytes(value)

  const match = SIZE_PATTERN.exec(value)
  if (!match?.[1]) throw invalidSize()

  const unit = match[2] as Unit | undefined
  return checkedBytes(Number(match[1]) * (unit === undefined ? 1 : UNIT_BYTES[unit]))
}

/** Whether `value` is something `parseSize` accepts. */
export function isSize(value: unknown): value is string | number {
  if (typeof value !== 'string' && typeof value !== 'number') return false

  try {
    parseSize(value)
    return true
  } catch {
    return false
  }
}

function checkedBytes(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw invalidSize()
  return bytes
}

function invalidSize(): TollgateError {
  return new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    'a size must be a whole number of bytes with an optional unit: k, m or g (e.g. 32m)',
  )
}
