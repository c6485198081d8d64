import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import { openDatabase } from '../../../src/store/database.js'
import { MIGRATIONS } from '../../../src/store/migrations.js'

describe('openDatabase and migrations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-db-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a new store gets every migration and records the version', () => {
    const db = openDatabase(':memory:')
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all()
    assert.deepEqual(tables, ['audit_events', 'meta', 'secrets', 'tokens'])
    db.close()
  })

  test('reopening applies nothing twice and keeps the data', () => {
    const path = join(dir, 'reopen', 'tollgate.db')
    const first = openDatabase(path)
    first.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run()
    first.close()

    // A second run of the first migration would fail on CREATE TABLE: reopening proves it
    // was skipped, and the row proves nothing was dropped.
    const second = openDatabase(path)
    assert.equal(second.pragma('user_version', { simple: true }), MIGRATIONS.length)
    assert.equal(second.prepare("SELECT value FROM meta WHERE key = 'k'").pluck().get(), 'v')
    second.close()
  })

  test('two connections to one file can both open it (WAL, busy timeout)', () => {
    const path = join(dir, 'shared', 'tollgate.db')
    const a = openDatabase(path)
    const b = openDatabase(path)
    assert.equal(a.pragma('journal_mode', { simple: true }), 'wal')
    a.prepare("INSERT INTO meta (key, value) VALUES ('from', 'a')").run()
    assert.equal(b.prepare("SELECT value FROM meta WHERE key = 'from'").pluck().get(), 'a')
    a.close()
    b.close()
  })

  test('commits are durable by default and NORMAL only when asked', () => {
    const durable = openDatabase(':memory:')
    const fast = openDatabase(':memory:', { durable: false })
    // 2 = FULL, 1 = NORMAL
    assert.equal(durable.pragma('synchronous', { simple: true }), 2)
    assert.equal(fast.pragma('synchronous', { simple: true }), 1)
    assert.equal(durable.pragma('foreign_keys', { simple: true }), 1)
    durable.close()
    fast.close()
  })

  test('a store written by a newer Tollgate is refused, and left untouched', () => {
    const path = join(dir, 'newer', 'tollgate.db')
    openDatabase(path).close()
    const raw = new BetterSqlite3(path)
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`)
    raw.close()

    assert.throws(
      () => openDatabase(path),
      (error: unknown) =>
        isTollgateError(error) &&
        error.code === 'TOLLGATE_STORE_UNAVAILABLE' &&
        error.message.includes(`schema ${MIGRATIONS.length + 1}`),
    )
    const check = new BetterSqlite3(path, { readonly: true })
    assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length + 1)
    check.close()
  })

  test('a path that cannot be opened is a TollgateError', () => {
    // The directory itself, not a file inside it.
    assert.throws(
      () => openDatabase(dir),
      (error: unknown) => isTollgateError(error) && error.code === 'TOLLGATE_STORE_UNAVAILABLE',
    )
  })
})
