import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { openDatabase, type Database } from './database.js'

/**
 * Creates the state directory if needed, readable by its owner only: it holds the CA key, the
 * master key and the audit trail.
 */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  chmodSync(stateDir, 0o700)
}

export function databasePath(stateDir: string): string {
  return join(stateDir, 'tollgate.db')
}

export function openStateDatabase(stateDir: string): Database {
  ensureStateDir(stateDir)
  const path = databasePath(stateDir)
  // SQLite gives its -wal and -shm files the mode of the database file, so the file must be
  // private before SQLite first opens it, not just chmod-ed afterwards.
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
  return openDatabase(path)
}
