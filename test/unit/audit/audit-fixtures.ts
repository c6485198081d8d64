import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEventInput } from '../../../src/audit/event.js'
import { openDatabase, type Database } from '../../../src/store/database.js'

export interface TempStore {
  path: string
  db: Database
  /** Opens another connection to the same file, as the CLI would beside `tollgate serve`. */
  connect(): Database
  cleanup(): void
}

/** A durable store in a fresh temp directory; `cleanup` closes every connection it opened. */
export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-audit-'))
  const path = join(dir, 'state.db')
  const connections: Database[] = []
  const connect = (): Database => {
    const db = openDatabase(path)
    connections.push(db)
    return db
  }

  const db = connect()
  const cleanup = (): void => {
    for (const connection of connections) if (connection.open) connection.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { path, db, connect, cleanup }
}

export function requestEvent(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    type: 'request.decided',
    request_id: 'req-1',
    agent: 'ci-bot',
    owner: 'alice@example.com',
    team: 'platform',
    method: 'GET',
    scheme: 'https',
    host: 'api.github.com',
    port: 443,
    path: '/repos',
    decision: 'allow',
    rule: 'github/read',
    ...overrides,
  }
}

/**
 * Counts the transactions committed to the WAL since it was last truncated, read from the WAL
 * file itself: SQLite marks the last frame of every commit with the database size, and leaves
 * that field zero in every other frame. Needs `wal_autocheckpoint = 0` and a TRUNCATE
 * checkpoint beforehand so that no frames are overwritten in between.
 */
export function countWalCommits(dbPath: string): number {
  const walPath = `${dbPath}-wal`
  if (!existsSync(walPath)) return 0

  const wal = readFileSync(walPath)
  if (wal.length < 32) return 0
  const pageSize = wal.readUInt32BE(8)
  const salt = wal.subarray(16, 24)

  let commits = 0
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const sameGeneration = wal.subarray(at + 8, at + 16).equals(salt)
    if (sameGeneration && wal.readUInt32BE(at + 4) !== 0) commits++
  }
  return commits
}

/** Empties the WAL and stops automatic checkpoints, so `countWalCommits` starts from zero. */
export function resetWal(db: Database): void {
  db.pragma('wal_autocheckpoint = 0')
  db.pragma('wal_checkpoint(TRUNCATE)')
}
