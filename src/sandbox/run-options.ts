import { isAbsolute, relative, resolve } from 'node:path'
import type { CredentialConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'

/**
 * `--env-placeholder NAME=CREDENTIAL` entries as the box's environment: each NAME is set to
 * that credential's placeholder, which the relay swaps for the real secret on allowed
 * requests. Only placeholder credentials qualify; anything else would need the real value.
 */
export function placeholderEnv(
  entries: readonly string[],
  credentials: readonly CredentialConfig[],
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    const name = entry.slice(0, eq)
    const credName = entry.slice(eq + 1)
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `expected NAME=CREDENTIAL, got ${entry}`)
    }
    const cred = credentials.find((c) => c.name === credName)
    if (!cred) throw new TollgateError('TOLLGATE_NOT_FOUND', `no credential named ${credName}`)
    if (cred.inject.kind !== 'placeholder') {
      throw new TollgateError(
        'TOLLGATE_INVALID_ARGUMENT',
        `credential ${credName} is not a placeholder credential`,
      )
    }
    env[name] = cred.inject.placeholder
  }
  return env
}

/** Whether `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner))
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * The host directory shared read-write with the box. Refused when sharing it would hand the
 * agent what the box exists to keep out: the whole home directory (dotfiles, SSH and cloud
 * keys) or Tollgate's state directory (master key, CA key, audit trail).
 */
export function checkWorkdir(workdir: string, home: string, stateDir: string): string {
  const dir = resolve(workdir)
  if (isWithin(home, dir)) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      `${dir} contains the home directory; run from a project directory, or use --fresh-workdir`,
    )
  }
  if (isWithin(stateDir, dir) || isWithin(dir, stateDir)) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      `${dir} overlaps the state directory ${stateDir}; the box must not see it`,
    )
  }
  return dir
}
