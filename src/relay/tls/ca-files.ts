import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

import { TollgateError } from '../../errors/tollgate-error.js'
import type { CaPems } from './ca-certificate.js'

/** Where the interception CA lives under the state directory. */
export interface CaPaths {
  readonly dir: string
  readonly keyPath: string
  readonly certPath: string
}

/** The CA file locations for a state directory: `<stateDir>/ca/ca.{key,crt}.pem`. */
export function caPaths(stateDir: string): CaPaths {
  const dir = join(stateDir, 'ca')
  return { dir, keyPath: join(dir, 'ca.key.pem'), certPath: join(dir, 'ca.crt.pem') }
}

/**
 * Reads the CA key and certificate, or returns `null` when no key exists yet.
 *
 * @throws TollgateError `TOLLGATE_CA_KEY_INSECURE` when the key file grants any access to group
 *   or others; `TOLLGATE_CA_UNAVAILABLE` when the key exists but the certificate does not.
 */
export async function readCaFiles(paths: CaPaths): Promise<CaPems | null> {
  const mode = await keyFileMode(paths.keyPath)
  if (mode === null) return null

  assertPrivateMode(paths.keyPath, mode)
  const keyPem = await readFile(paths.keyPath, 'utf8')
  const certPem = await readFile(paths.certPath, 'utf8').catch((cause: unknown) => {
    throw caUnavailable(`${paths.certPath} cannot be read but its key exists`, cause)
  })

  return { certPem, keyPem }
}

/**
 * Publishes a new CA unless another process already has. The key is the commit point: it is
 * written to a private temporary file and linked into place, which fails atomically if the key
 * already exists, so a racing process never clobbers a CA and never reads half a key. Only the
 * winner then writes the certificate.
 *
 * @returns false when another process published its CA first; the caller should load that one.
 */
export async function writeCaFilesExclusive(paths: CaPaths, pems: CaPems): Promise<boolean> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })

  const published = await publishExclusive(paths.keyPath, pems.keyPem)
  if (!published) return false

  await replaceFile(paths.certPath, pems.certPem, 0o644)
  return true
}

async function keyFileMode(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mode
  } catch (cause) {
    if (isErrno(cause, 'ENOENT')) return null
    throw caUnavailable(`${path} cannot be read`, cause)
  }
}

function assertPrivateMode(path: string, mode: number): void {
  // Windows has no POSIX mode bits; Node reports 0o666 for every writable file there.
  if (process.platform === 'win32' || (mode & 0o077) === 0) return

  const message = `${path} is accessible by group or others; run: chmod 600 ${path}`
  throw new TollgateError('TOLLGATE_CA_KEY_INSECURE', message, { expose: false })
}

async function publishExclusive(path: string, contents: string): Promise<boolean> {
  const temporary = await writePrivateTemporary(path, contents)
  try {
    await link(temporary, path)
    return true
  } catch (cause) {
    if (isErrno(cause, 'EEXIST')) return false
    throw caUnavailable(`${path} cannot be created`, cause)
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
}

// fsync before publishing: after a crash the key must be whole or absent, never empty.
async function writePrivateTemporary(path: string, contents: string): Promise<string> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(contents, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  return temporary
}

// The certificate is public; chmod undoes a restrictive umask so operators can export it.
async function replaceFile(path: string, contents: string, mode: number): Promise<void> {
  const temporary = await writePrivateTemporary(path, contents)
  await chmod(temporary, mode)
  await rename(temporary, path)
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code
}

/** A `TOLLGATE_CA_UNAVAILABLE` error for operators; its message may name files, never keys. */
export function caUnavailable(message: string, cause?: unknown): TollgateError {
  return new TollgateError('TOLLGATE_CA_UNAVAILABLE', message, { cause, expose: false })
}
