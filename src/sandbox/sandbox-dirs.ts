import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { OUTPUT_LOG_NAME } from './output-log.js'

/** How many stopped sandboxes keep their output log for `tollgate sandbox logs`. */
export const KEPT_OUTPUT_LOGS = 50

/**
 * Empties a stopped sandbox's directory: its relay socket and CA copy go, so nothing can reach
 * the relay through it, and only the output log stays. A directory with no log goes entirely.
 */
export function clearSandboxDir(dir: string): void {
  if (!existsSync(dir)) return
  const entries = readdirSync(dir, { withFileTypes: true })
  for (const entry of entries) {
    if (entry.name === OUTPUT_LOG_NAME && entry.isFile()) continue
    rmSync(join(dir, entry.name), { recursive: true, force: true })
  }
  if (!entries.some((entry) => entry.name === OUTPUT_LOG_NAME && entry.isFile())) {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Clears the directories of sandboxes that are not running (`isRunning`), then removes the
 * oldest output logs beyond `keep`. Run when the relay starts and after each stop.
 */
export function clearStoppedSandboxes(
  root: string,
  isRunning: (id: string) => boolean,
  keep = KEPT_OUTPUT_LOGS,
): void {
  const stopped = readdirSync(root).filter((id) => !isRunning(id))
  for (const id of stopped) clearSandboxDir(join(root, id))

  const logs = readdirSync(root)
    .filter((id) => !isRunning(id))
    .map((id) => ({ id, mtime: logTime(join(root, id, OUTPUT_LOG_NAME)) }))
    .sort((a, b) => b.mtime - a.mtime)
  for (const { id } of logs.slice(keep)) rmSync(join(root, id), { recursive: true, force: true })
}

function logTime(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0
}
