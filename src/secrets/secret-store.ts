import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type BetterSqlite3 from 'better-sqlite3'
import { TollgateError } from '../errors/tollgate-error.js'
import type { Database } from '../store/database.js'
import type { MasterKey } from './master-key.js'
import { SecretValue } from './secret-value.js'

const CIPHER = 'aes-256-gcm'
const NONCE_BYTES = 12
const TAG_BYTES = 16
const SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/
/** Large enough for any API key or service-account JSON; a bound on what one row may hold. */
export const MAX_SECRET_BYTES = 64 * 1024

/** What `list()` tells about a secret. Never its value. */
export interface SecretInfo {
  name: string
  version: number
  createdAt: Date
  updatedAt: Date
}

export interface SecretStoreOptions {
  /** Clock for the timestamps; tests pass a fixed one. */
  now?: () => number
  /**
   * Serve cached values without re-reading the row. Only for an owner that calls
   * `refreshIfChanged` regularly (the relay does, on every state poll and signal).
   */
  trustCache?: boolean
}

interface SecretRow {
  version: number
  nonce: Buffer
  ciphertext: Buffer
  tag: Buffer
  key_id: string
}

type Statement = BetterSqlite3.Statement<unknown[]>

interface Statements {
  select: Statement
  selectVersion: Statement
  upsert: Statement
  remove: Statement
  list: Statement
  fingerprint: Statement
}

interface CachedSecret {
  nonce: Buffer
  value: SecretValue
}

/**
 * The encrypted secret store. Write-only for people: nothing here lists or prints a value; the
 * relay reads one back only as a `SecretValue`. Rows are sealed with AES-256-GCM under the
 * master key, with a fresh random nonce on every write. The secret's name is the additional
 * authenticated data, so a ciphertext copied onto another name's row fails to decrypt instead
 * of handing one credential to the rule that expects another.
 *
 * The CLI and a running relay share the database file; `get` therefore reads the row each time
 * and only skips the decryption when the row has not changed since it was last read.
 */
export class SecretStore {
  readonly #db: Database
  readonly #masterKey: MasterKey
  readonly #now: () => number
  readonly #statements: Statements
  readonly #cache = new Map<string, CachedSecret>()
  readonly #trustCache: boolean
  #fingerprint = ''

  constructor(db: Database, masterKey: MasterKey, options: SecretStoreOptions = {}) {
    this.#trustCache = options.trustCache ?? false
    this.#db = db
    this.#statements = prepareStatements(db)
    this.#masterKey = masterKey
    this.#now = options.now ?? Date.now
  }

  /** Stores a new version of the secret; the first `set` of a name creates it at version 1. */
  set(name: string, value: SecretValue): { version: number; created: boolean } {
    assertSecretName(name)
    assertSecretSize(value)

    // IMMEDIATE takes the write lock before reading the version, so a CLI and a relay setting
    // the same secret at once cannot both write the same version number.
    const write = this.#db.transaction(() => this.#writeVersion(name, value))
    return write.immediate()
  }

  /**
   * The current value, or null when no secret has that name.
   * @throws TollgateError TOLLGATE_SECRET_UNAVAILABLE when the row was encrypted under another
   * master key or has been tampered with.
   */
  get(name: string): SecretValue | null {
    assertSecretName(name)
    if (this.#trustCache) {
      const cached = this.#cache.get(name)
      if (cached) return cached.value
    }
    const row = this.#selectRow(name)
    if (!row) {
      this.#cache.delete(name)
      return null
    }

    // The nonce is fresh on every write, so it tells a changed row apart even after a delete
    // and re-create has reset the version to 1.
    const cached = this.#cache.get(name)
    if (cached?.nonce.equals(row.nonce)) return cached.value

    const value = this.#decrypt(name, row)
    this.#cache.set(name, { nonce: row.nonce, value })
    return value
  }

  /**
   * Drops the cache if any secret changed since the last call (a cheap summary query). A
   * store created with `trustCache` relies on its owner calling this regularly.
   */
  refreshIfChanged(): void {
    const row = this.#statements.fingerprint.get() as { n: number; v: number; u: number }
    const fingerprint = `${row.n}:${row.v}:${row.u}`
    if (fingerprint !== this.#fingerprint) this.#cache.clear()
    this.#fingerprint = fingerprint
  }

  /** Removes the secret; returns whether it existed. */
  delete(name: string): boolean {
    assertSecretName(name)
    this.#cache.delete(name)
    return this.#statements.remove.run(name).changes > 0
  }

  /** Every stored secret's name, version and times, sorted by name. Never values. */
  list(): SecretInfo[] {
    const rows = this.#statements.list.all() as Array<{
      name: string
      version: number
      created_at: number
      updated_at: number
    }>

    return rows.map((row) => ({
      name: row.name,
      version: row.version,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
    }))
  }

  #writeVersion(name: string, value: SecretValue): { version: number; created: boolean } {
    const previous = this.#statements.selectVersion.get(name) as { version: number } | undefined
    const version = (previous?.version ?? 0) + 1
    const sealed = this.#encrypt(name, value)
    const now = this.#now()

    this.#statements.upsert.run(
      name,
      version,
      sealed.nonce,
      sealed.ciphertext,
      sealed.tag,
      this.#masterKey.id,
      now,
      now,
    )
    return { version, created: previous === undefined }
  }

  #selectRow(name: string): SecretRow | undefined {
    return this.#statements.select.get(name) as SecretRow | undefined
  }

  #encrypt(name: string, value: SecretValue): { nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv(CIPHER, this.#masterKey.key, nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(name, 'utf8'))

    const plaintext = value.revealBuffer()
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    plaintext.fill(0)
    return { nonce, ciphertext, tag: cipher.getAuthTag() }
  }

  #decrypt(name: string, row: SecretRow): SecretValue {
    if (row.key_id !== this.#masterKey.id) {
      throw unavailable(
        `secret '${name}' was encrypted under master key ${row.key_id}, ` +
          `but this process has master key ${this.#masterKey.id}`,
      )
    }

    try {
      const decipher = createDecipheriv(CIPHER, this.#masterKey.key, row.nonce, {
        authTagLength: TAG_BYTES,
      })
      decipher.setAAD(Buffer.from(name, 'utf8'))
      decipher.setAuthTag(row.tag)
      const plaintext = Buffer.concat([decipher.update(row.ciphertext), decipher.final()])
      return wrapAndWipe(plaintext)
    } catch (cause) {
      throw unavailable(
        `secret '${name}' failed authentication: ` +
          'the row was altered or written under another master key',
        cause,
      )
    }
  }
}

function prepareStatements(db: Database): Statements {
  return {
    select: db.prepare(
      'SELECT version, nonce, ciphertext, tag, key_id FROM secrets WHERE name = ?',
    ),
    selectVersion: db.prepare('SELECT version FROM secrets WHERE name = ?'),
    upsert: db.prepare(
      `INSERT INTO secrets (name, version, nonce, ciphertext, tag, key_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, nonce = excluded.nonce,
         ciphertext = excluded.ciphertext, tag = excluded.tag, key_id = excluded.key_id,
         updated_at = excluded.updated_at`,
    ),
    remove: db.prepare('DELETE FROM secrets WHERE name = ?'),
    list: db.prepare('SELECT name, version, created_at, updated_at FROM secrets ORDER BY name'),
    fingerprint: db.prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v, COALESCE(MAX(updated_at), 0) AS u
       FROM secrets`,
    ),
  }
}

/**
 * Whether `name` may name a secret: a letter or digit, then up to 127 letters, digits, dots,
 * underscores or hyphens.
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

function assertSecretName(name: string): void {
  if (isSecretName(name)) return

  // The rejected text is not echoed: it may be a secret typed in the wrong place.
  throw new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    'a secret name must start with a letter or digit and hold at most 128 of [a-zA-Z0-9._-]',
  )
}

function assertSecretSize(value: SecretValue): void {
  if (value.length > 0 && value.length <= MAX_SECRET_BYTES) return

  throw new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    `a secret value must hold between 1 and ${MAX_SECRET_BYTES} bytes`,
  )
}

function wrapAndWipe(plaintext: Buffer): SecretValue {
  const value = new SecretValue(plaintext)
  plaintext.fill(0)
  return value
}

function unavailable(message: string, cause?: unknown): TollgateError {
  // Names and key ids help the operator; the agent gets only the catalogue message.
  return new TollgateError('TOLLGATE_SECRET_UNAVAILABLE', message, { cause, expose: false })
}
