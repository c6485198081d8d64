import assert from 'node:assert/strict'
import type { ErrorCode } from '../../../../src/errors/codes.js'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'

/**
 * Asserts that `run` throws a TollgateError with exactly `code`. A plain Error, a TypeError or
 * a different code fails the test: the relay turns only TollgateErrors into clean 400s.
 */
export function assertRefused(run: () => unknown, code: ErrorCode, input: string): void {
  assert.throws(
    run,
    (error: unknown) => isTollgateError(error) && error.code === code,
    `${JSON.stringify(input)} should be refused with ${code}`,
  )
}

/** Runs `run` and returns the TollgateError it threw, or null when it returned normally. */
export function refusalOf(run: () => unknown): { code: string } | null {
  try {
    run()
    return null
  } catch (error) {
    if (isTollgateError(error)) return { code: error.code }
    throw error
  }
}
