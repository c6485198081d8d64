import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import {
  MASTER_KEY_ENV,
  MASTER_KEY_FILE,
  loadMasterKey,
  masterKeyId,
} from '../../../src/secrets/master-key.js'

let root: string

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tollgate-master-key-'))
})

afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

/** Runs `load`, expects a TollgateError with `code`, and returns its message. */
function assertRefused(load: () => unknown, code: string): string {
  try {
    load()
  } catch (error) {
    assert.ok(isTollgateError(error))
    assert.equal(error.code, code)
    return error.message
  }
  assert.fail('expected the key to be refused')
}

describe('loadMasterKey from the key file', () => {
  test('creates a 32-byte key on first run with private modes, and reads it back', () => {
    const stateDir = join(root, 'state')

    const first = loadMasterKey({ stateDir, env: {} })
    const second = loadMasterKey({ stateDir, env: {} })

    assert.equal(first.key.length, 32)
    assert.deepEqual(second.key, first.key)
    assert.equal(statSync(join(stateDir, MASTER_KEY_FILE)).mode & 0o777, 0o600)
    assert.equal(statSync(stateDir).mode & 0o777, 0o700)
    assert.equal(
      Buffer.from(readFileSync(join(stateDir, MASTER_KEY_FILE), 'utf8'), 'base64').length,
      32,
    )
  })

  test('the id is the first 16 hex digits of sha256(key)', () => {
    const { key, id } = loadMasterKey({ stateDir: root, env: {} })

    assert.match(id, /^[0-9a-f]{16}$/)
    assert.equal(id, masterKeyId(key))
    assert.notEqual(id, masterKeyId(randomBytes(32)))
  })

  test('does not replace an existing key file', () => {
    const key = randomBytes(32)
    const path = join(root, MASTER_KEY_FILE)
    writeFileSync(path, key.toString('base64'), { mode: 0o600 })

    assert.deepEqual(loadMasterKey({ stateDir: root, env: {} }).key, key)
    assert.equal(readFileSync(path, 'utf8'), key.toString('base64'))
  })

  test('refuses a key file readable by group or others, naming the path and the fix', () => {
    const path = join(root, MASTER_KEY_FILE)
    writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600 })

    for (const mode of [0o640, 0o604, 0o660]) {
      chmodSync(path, mode)
      const message = assertRefused(
        () => loadMasterKey({ stateDir: root, env: {} }),
        'TOLLGATE_CONFIG_INVALID',
      )
      assert.ok(message.includes(path))
      assert.ok(message.includes('chmod 600'))
    }
  })

  test('refuses a key file that does not hold 32 bytes, without echoing it', () => {
    const content = randomBytes(16).toString('base64')
    writeFileSync(join(root, MASTER_KEY_FILE), content, { mode: 0o600 })

    const message = assertRefused(
      () => loadMasterKey({ stateDir: root, env: {} }),
      'TOLLGATE_CONFIG_INVALID',
    )
    assert.ok(!message.includes(content))
  })
})

describe('loadMasterKey from TOLLGATE_MASTER_KEY', () => {
  const key = randomBytes(32)

  test('accepts base64 with or without padding, and hex', () => {
    const forms = [
      key.toString('base64'),
      key.toString('base64').replace(/=$/, ''),
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      `${key.toString('base64')}\n`,
    ]

    for (const form of forms) {
      const loaded = loadMasterKey({ stateDir: root, env: { [MASTER_KEY_ENV]: form } })
      assert.deepEqual(loaded.key, key)
      assert.equal(loaded.id, masterKeyId(key))
    }
  })

  test('wins over the key file and does not create one', () => {
    loadMasterKey({ stateDir: root, env: { [MASTER_KEY_ENV]: key.toString('hex') } })

    assert.throws(() => statSync(join(root, MASTER_KEY_FILE)), { code: 'ENOENT' })
  })

  test('refuses every other form without echoing the value', () => {
    const bad = [
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(31).toString('hex'),
      `${key.toString('hex')}00`,
      key.toString('base64url').replace(/[^-_]/, '-'),
      'not-a-key-at-all-but-long-enough-to-look-like-one',
    ]

    for (const value of bad) {
      const message = assertRefused(
        () => loadMasterKey({ stateDir: root, env: { [MASTER_KEY_ENV]: value } }),
        'TOLLGATE_CONFIG_INVALID',
      )
      assert.ok(!message.includes(value))
      assert.ok(message.includes(MASTER_KEY_ENV))
    }
  })
})
