import { createHash, randomBytes } from 'node:crypto'
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TollgateError } from '../errors/tollgate-error.js'

/** The environment variable that, when set, holds the master key instead of the key file. */
export const MASTER_KEY_ENV = 'TOLLGATE_MASTER_KEY'

/** Name of the key file inside the state directory. */
export const MASTER_KEY_FILE = 'master.key'

const KEY_BYTES = 32
const HEX_KEY = /^[0-9a-fA-F]{64}$/
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$/

/** The key that encrypts every secret, and a short public name for it. */
export interface MasterKey {
  /** 32 bytes for AES-256-GCM. */
  key: Buffer
  /**
   * First 16 hex digits of sha256(key). Stored next to each ciphertext, so a relay started with
   * the wrong key says so instead of failing with an opaque decryption error.
   */
  id: string
}

export interface LoadMasterKeyOptions {
  /** Absolute path of the state directory; the key file lives in it. */
  stateDir: string
  env: Readonly<Record<string, string | undefined>>
}

/**
 * Finds the master key: `TOLLGATE_MASTER_KEY` (32 bytes as base64, or 64 hex digits) wins;
 * otherwise `<stateDir>/master.key`, created with 32 random bytes on first run.
 *
 * Security caveat: the key file is refused when its mode lets the group or others read it,
 * because anyone who can read it can decrypt every stored secret.
 */
export function loadMasterKey(options: LoadMasterKeyOptions): MasterKey {
  const fromEnv = options.env[MASTER_KEY_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return toMasterKey(decodeEnvKey(fromEnv))

  const path = join(options.stateDir, MASTER_KEY_FILE)
  createKeyFileIfMissing(options.stateDir, path)
  return toMasterKey(readKeyFile(path))
}

/** Names a key by a prefix of its hash; the prefix reveals nothing useful about the key. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16)
}

function toMasterKey(key: Buffer): MasterKey {
  return { key, id: masterKeyId(key) }
}

function decodeEnvKey(text: string): Buffer {
  const key = decodeKey(text)
  if (key) return key

  // The value itself is never echoed: a mistyped key is still mostly a key.
  throw new TollgateError(
    'TOLLGATE_CONFIG_INVALID',
    `${MASTER_KEY_ENV} must be 32 bytes as base64 (44 characters) or as 64 hex digits`,
  )
}

function decodeKey(text: string): Buffer | null {
  const trimmed = text.trim()
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex')
  if (!BASE64_KEY.test(trimmed)) return null

  const key = Buffer.from(trimmed, 'base64')
  return key.length === KEY_BYTES ? key : null
}

function createKeyFileIfMissing(stateDir: string, path: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })

  // `wx` fails if the file exists, so two processes starting together cannot both write a key
  // and leave secrets encrypted under one that was then overwritten.
  try {
    writeFileSync(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, {
      flag: 'wx',
      mode: 0o600,
    })
  } catch (cause) {
    if (errorCode(cause) === 'EEXIST') return
    throw new TollgateError('TOLLGATE_STORE_UNAVAILABLE', `cannot create the key file ${path}`, {
      cause,
    })
  }
}

function readKeyFile(path: string): Buffer {
  // Check the mode on the open descriptor, so the file checked is the file read.
  const fd = openKeyFile(path)
  try {
    refuseLooseMode(path, fstatSync(fd).mode)
    const key = decodeKey(readFileSync(fd, 'utf8'))
    if (key) return key
  } finally {
    closeSync(fd)
  }

  throw new TollgateError(
    'TOLLGATE_CONFIG_INVALID',
    `the key file ${path} does not hold 32 bytes as base64 or hex`,
  )
}

function openKeyFile(path: string): number {
  try {
    return openSync(path, 'r')
  } catch (cause) {
    throw new TollgateError('TOLLGATE_STORE_UNAVAILABLE', `cannot read the key file ${path}`, {
      cause,
    })
  }
}

function refuseLooseMode(path: string, mode: number): void {
  // Windows has no POSIX modes; its ACLs are out of reach from here.
  if (process.platform === 'win32' || (mode & 0o077) === 0) return

  throw new TollgateError(
    'TOLLGATE_CONFIG_INVALID',
    `the key file ${path} is open to other users (mode ${octal(mode)}); ` +
      `fix it with: chmod 600 ${path}`,
  )
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined
}
