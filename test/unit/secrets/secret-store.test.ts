import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import { masterKeyId, type MasterKey } from '../../../src/secrets/master-key.js'
import { SecretStore } from '../../../src/secrets/secret-store.js'
import { SecretValue } from '../../../src/secrets/secret-value.js'
import { openDatabase, type Database } from '../../../src/store/database.js'

const RAW = 'ghp_plaintextThatMustNeverBeStored42'

function newKey(): MasterKey {
  const key = randomBytes(32)
  return { key, id: masterKeyId(key) }
}

function newStore(key = newKey()): { db: Database; store: SecretStore } {
  const db = openDatabase(':memory:')
  return { db, store: new SecretStore(db, key) }
}

function assertUnavailable(read: () => unknown, name: string): void {
  assert.throws(read, (error) => {
    assert.ok(isTollgateError(error))
    assert.equal(error.code, 'TOLLGATE_SECRET_UNAVAILABLE')
    assert.ok(error.message.includes(name))
    assert.ok(!error.message.includes(RAW))
    assert.equal(error.exposeMessage, false)
    return true
  })
}

describe('SecretStore', () => {
  test('stores and returns a secret; versions count up from 1', () => {
    const { store } = newStore()

    assert.deepEqual(store.set('github', new SecretValue(RAW)), { version: 1, created: true })
    assert.deepEqual(store.set('github', new SecretValue(`${RAW}-2`)), {
      version: 2,
      created: false,
    })
    assert.equal(store.get('github')?.reveal(), `${RAW}-2`)
    assert.equal(store.get('absent'), null)
  })

  test('delete removes the secret and says whether it existed', () => {
    const { store } = newStore()
    store.set('github', new SecretValue(RAW))

    assert.equal(store.delete('github'), true)
    assert.equal(store.delete('github'), false)
    assert.equal(store.get('github'), null)
    assert.deepEqual(store.set('github', new SecretValue(RAW)), { version: 1, created: true })
  })

  test('list gives names, versions and times, never values', () => {
    let now = 1_000
    const db = openDatabase(':memory:')
    const store = new SecretStore(db, newKey(), { now: () => now })
    store.set('b-key', new SecretValue(RAW))
    store.set('a-key', new SecretValue(RAW))
    now = 2_000
    store.set('b-key', new SecretValue(RAW))

    const listed = store.list()

    assert.deepEqual(listed, [
      { name: 'a-key', version: 1, createdAt: new Date(1_000), updatedAt: new Date(1_000) },
      { name: 'b-key', version: 2, createdAt: new Date(1_000), updatedAt: new Date(2_000) },
    ])
    assert.ok(!JSON.stringify(listed).includes(RAW))
  })

  test('a different master key fails closed, naming the secret', () => {
    const { db, store } = newStore()
    store.set('github', new SecretValue(RAW))

    assertUnavailable(() => new SecretStore(db, newKey()).get('github'), 'github')
  })

  test('a wrong key with a forged key id still fails authentication', () => {
    const { db, store } = newStore()
    store.set('github', new SecretValue(RAW))
    const other = newKey()
    db.prepare('UPDATE secrets SET key_id = ?').run(other.id)

    assertUnavailable(() => new SecretStore(db, other).get('github'), 'github')
  })

  test('a tampered ciphertext or tag fails closed', () => {
    const key = newKey()
    const { db, store } = newStore(key)
    store.set('github', new SecretValue(RAW))
    db.prepare("UPDATE secrets SET ciphertext = ciphertext || x'00'").run()

    assertUnavailable(() => new SecretStore(db, key).get('github'), 'github')
  })

  test('a ciphertext moved onto another name does not decrypt (name is the AAD)', () => {
    const key = newKey()
    const { db, store } = newStore(key)
    store.set('prod', new SecretValue(RAW))
    store.set('dev', new SecretValue('dev-value'))
    db.prepare(
      `UPDATE secrets SET (nonce, ciphertext, tag) =
         (SELECT nonce, ciphertext, tag FROM secrets WHERE name = 'prod')
       WHERE name = 'dev'`,
    ).run()

    assertUnavailable(() => new SecretStore(db, key).get('dev'), 'dev')
    assert.equal(new SecretStore(db, key).get('prod')?.reveal(), RAW)
  })

  test('uses a fresh nonce for every write', () => {
    const { db, store } = newStore()
    store.set('one', new SecretValue(RAW))
    store.set('two', new SecretValue(RAW))
    const rows = db.prepare('SELECT nonce, ciphertext FROM secrets').all() as Array<{
      nonce: Buffer
      ciphertext: Buffer
    }>

    assert.equal(rows.length, 2)
    assert.ok(!rows[0]?.nonce.equals(rows[1]?.nonce ?? Buffer.alloc(0)))
    assert.ok(!rows[0]?.ciphertext.equals(rows[1]?.ciphertext ?? Buffer.alloc(0)))
  })

  test('refuses bad names without echoing them, and empty values', () => {
    const { store } = newStore()
    const badNames = ['', '.hidden', '-x', 'has space', 'slash/name', 'x'.repeat(129), RAW + '!']

    for (const name of badNames) {
      assert.throws(
        () => store.set(name, new SecretValue(RAW)),
        (error) => {
          assert.ok(isTollgateError(error))
          assert.equal(error.code, 'TOLLGATE_INVALID_ARGUMENT')
          assert.ok(name === '' || !error.message.includes(name))
          return true
        },
      )
    }
    assert.throws(() => store.get('bad name'), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.throws(() => store.set('ok', new SecretValue('')), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.deepEqual(store.set('x'.repeat(128), new SecretValue(RAW)).version, 1)
  })
})

describe('SecretStore on a database file', () => {
  test('the file never holds the plaintext', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-secrets-'))
    try {
      const db = openDatabase(join(dir, 'state.db'))
      new SecretStore(db, newKey()).set('github', new SecretValue(RAW))
      const bytesBeforeClose = readdirSync(dir).map((file) => readFileSync(join(dir, file)))
      db.close()
      const bytesAfterClose = readdirSync(dir).map((file) => readFileSync(join(dir, file)))

      for (const bytes of [...bytesBeforeClose, ...bytesAfterClose]) {
        assert.equal(bytes.indexOf(RAW), -1)
        assert.equal(bytes.indexOf(Buffer.from(RAW, 'utf16le')), -1)
      }
      assert.ok(bytesAfterClose.some((bytes) => bytes.indexOf('github') !== -1))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a reader sees changes another connection made, even after delete and re-create', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-secrets-'))
    const key = newKey()
    const cliDb = openDatabase(join(dir, 'state.db'))
    const relayDb = openDatabase(join(dir, 'state.db'))
    try {
      const cli = new SecretStore(cliDb, key)
      const relay = new SecretStore(relayDb, key)

      cli.set('github', new SecretValue('first'))
      assert.equal(relay.get('github')?.reveal(), 'first')
      cli.set('github', new SecretValue('second'))
      assert.equal(relay.get('github')?.reveal(), 'second')
      cli.delete('github')
      assert.equal(relay.get('github'), null)
      cli.set('github', new SecretValue('third'))
      assert.equal(relay.get('github')?.reveal(), 'third')

      // Same name and same version 1 as the row the reader last decrypted.
      cli.delete('github')
      assert.deepEqual(cli.set('github', new SecretValue('fourth')), { version: 1, created: true })
      assert.equal(relay.get('github')?.reveal(), 'fourth')
    } finally {
      cliDb.close()
      relayDb.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
