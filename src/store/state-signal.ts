import { watch, writeFileSync, type FSWatcher } from 'node:fs'
import { join } from 'node:path'

const SIGNAL_FILE = 'changes.signal'

/**
 * Tells a relay on the same state directory that the CLI changed something it caches (a token
 * revoked, a secret set or deleted), so it looks again now rather than at its next poll: a
 * revoked token's connections are cut at once. The store stays the truth; the file only says
 * "look again", and carries nothing secret.
 */
export function signalStateChange(stateDir: string): void {
  writeFileSync(join(stateDir, SIGNAL_FILE), `${Date.now()}\n`, { mode: 0o600 })
}

/** Calls `onSignal` whenever another process signals a change; returns a stop function. */
export function watchStateChanges(stateDir: string, onSignal: () => void): () => void {
  let watcher: FSWatcher | null = watch(stateDir, (_event, name) => {
    if (name === SIGNAL_FILE) onSignal()
  })
  watcher.on('error', () => undefined)
  watcher.unref()
  return () => {
    watcher?.close()
    watcher = null
  }
}
