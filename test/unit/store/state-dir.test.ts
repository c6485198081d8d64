import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { MIGRATIONS } from '../../../src/store/migrations.js'
import { databasePath, ensureStateDir, openStateDatabase } from '../../../src/store/state-dir.js'

function modeOf(path: string): number {
  return statSync(path).mode & 0o777
}

describe('state directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-state-'))
  const previousUmask = process.umask(0o022)
  after(() => {
    process.umask(previousUmask)
    rmSync(root, { recursive: true, force: true })
  })

  test('a new state directory is 0700 and its database 0600, whatever the umask', () => {
    const stateDir = join(root, 'fresh', 'state')
    const db = openStateDatabase(stateDir)

    assert.equal(databasePath(stateDir), join(stateDir, 'tollgate.db'))
    assert.equal(modeOf(stateDir), 0o700)
    assert.equal(modeOf(databasePath(stateDir)), 0o600)
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
    db.close()
  })

  test('an existing directory and database opened by others are tightened', () => {
    const stateDir = join(root, 'loose')
    mkdirSync(stateDir, { mode: 0o755 })
    chmodSync(stateDir, 0o755)
    openStateDatabase(stateDir).close()
    chmodSync(databasePath(stateDir), 0o644)
    chmodSync(stateDir, 0o777)

    const db = openStateDatabase(stateDir)
    assert.equal(modeOf(stateDir), 0o700)
    assert.equal(modeOf(databasePath(stateDir)), 0o600)
    db.close()
  })

  test('ensureStateDir is idempotent', () => {
    const stateDir = join(root, 'twice')
    ensureStateDir(stateDir)
    ensureStateDir(stateDir)
    assert.equal(modeOf(stateDir), 0o700)
  })

  // The WAL holds the latest commits (audit events, secret ciphertexts) until a checkpoint.
  // SQLite creates it while migrations run, before the database file is chmod-ed, so it keeps
  // the umask's mode; only the 0700 directory stands between it and other local users.
  test('the WAL and shared-memory files are 0600 too', () => {
    const stateDir = join(root, 'wal')
    const db = openStateDatabase(stateDir)
    db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run()
    assert.equal(modeOf(`${databasePath(stateDir)}-wal`), 0o600)
    assert.equal(modeOf(`${databasePath(stateDir)}-shm`), 0o600)
    db.close()
  })
})
