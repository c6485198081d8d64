// Shared set-up for the TLS tests: throwaway state directories and a fixed clock.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fixed instant, so validity dates can be asserted exactly. */
export const FIXED_NOW = new Date('2025-06-01T12:00:00.000Z')

export const fixedClock = (): Date => FIXED_NOW

export const DAY_MS = 24 * 60 * 60 * 1000

/** Creates a private temporary state directory and returns it with its clean-up. */
export async function createStateDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-tls-'))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}
