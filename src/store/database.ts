import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { TollgateError } from '../errors/tollgate-error.js'
import { MIGRATIONS } from './migrations.js'

export type Database = BetterSqlite3.Database

export interface OpenDatabaseOptions {
  /** `synchronous=FULL` (default) fsyncs every commit: an acknowledged write survives a crash. */
  durable?: boolean
}

/**
 * Opens (creating if needed) the SQLite store and brings its schema up to date. WAL mode lets the
 * CLI read and write while `tollgate serve` holds the database open; a busy timeout makes the
 * two wait for each other instead of failing.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 })

  let db: Database
  try {
    db = new BetterSqlite3(path)
  } catch (cause) {
    throw new TollgateError('TOLLGATE_STORE_UNAVAILABLE', `cannot open the store at ${path}`, {
      cause,
    })
  }

  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.durable === false ? 'NORMAL' : 'FULL'}`)
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  migrate(db)
  return db
}

function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) {
    throw new TollgateError(
      'TOLLGATE_STORE_UNAVAILABLE',
      `the store was written by a newer Tollgate ` +
        `(schema ${current}, this one knows ${MIGRATIONS.length})`,
    )
  }

  const apply = db.transaction(() => {
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version] ?? '')
      db.pragma(`user_version = ${version + 1}`)
    }
  })
  apply.immediate()
}
