import { dirname, resolve } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { DEFAULT_STATE_DIR } from '../config/defaults.js'
import type { LoadedConfig } from '../config/types.js'
import { loadConfigFile } from '../config/load.js'
import { ConfigError } from '../config/config-error.js'
import { TollgateError, isTollgateError } from '../errors/tollgate-error.js'
import type { Database } from '../store/database.js'
import { openStateDatabase } from '../store/state-dir.js'

export const DEFAULT_CONFIG = 'tollgate.yaml'

export interface GlobalOptions {
  config?: string
}

/** Where the config is: --config, then $TOLLGATE_CONFIG, then ./tollgate.yaml. */
export function configPath(options: GlobalOptions): string {
  return resolve(options.config ?? process.env.TOLLGATE_CONFIG ?? DEFAULT_CONFIG)
}

export function isDefaultConfigPath(options: GlobalOptions): boolean {
  return options.config === undefined && process.env.TOLLGATE_CONFIG === undefined
}

export function loadConfig(options: GlobalOptions): LoadedConfig {
  const path = configPath(options)
  if (!existsSync(path)) {
    throw new TollgateError(
      'TOLLGATE_CONFIG_NOT_FOUND',
      `no configuration at ${path}; run \`tollgate init\` to write an example`,
    )
  }
  return loadConfigFile(path)
}

/** Opens the state database of the configured state directory for one CLI command. */
export function withDatabase<T>(
  options: GlobalOptions,
  use: (db: Database, loaded: LoadedConfig) => T,
): T {
  const loaded = loadConfig(options)
  const db = openStateDatabase(loaded.config.server.stateDir)
  try {
    return use(db, loaded)
  } finally {
    db.close()
  }
}

/** The state directory a command works on, and the config version when the config loaded. */
export interface StateContext {
  stateDir: string
  policyVersion: string | null
}

/**
 * Opens the state database for commands that need only the state (revoking a token, reading the
 * audit trail, rotating a secret). They must work while the config is broken — that is exactly
 * when an operator needs them — so an invalid config falls back to its `server.stateDir`.
 */
export function withState<T>(
  options: GlobalOptions,
  use: (db: Database, state: StateContext) => T,
): T {
  const { db, state } = openState(options)
  try {
    return use(db, state)
  } finally {
    db.close()
  }
}

/** The same, for a command that keeps the database open across awaits (it closes it). */
export function openState(options: GlobalOptions): { db: Database; state: StateContext } {
  const state = stateContext(options)
  return { db: openStateDatabase(state.stateDir), state }
}

function stateContext(options: GlobalOptions): StateContext {
  try {
    const loaded = loadConfig(options)
    return { stateDir: loaded.config.server.stateDir, policyVersion: loaded.hash }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const path = configPath(options)
    const stateDir = readStateDirLeniently(path)
    process.stderr.write(
      `tollgate: warning: ${path} is invalid (${error.issues.length} problem(s)); ` +
        `using its state directory ${stateDir}\n`,
    )
    return { stateDir, policyVersion: null }
  }
}

function readStateDirLeniently(path: string): string {
  let raw: unknown = null
  try {
    raw = parse(readFileSync(path, 'utf8'))
  } catch {
    raw = null
  }
  const server = (raw as { server?: { stateDir?: unknown } } | null)?.server
  const stateDir = typeof server?.stateDir === 'string' ? server.stateDir : DEFAULT_STATE_DIR
  return resolve(dirname(path), stateDir)
}

/** Prints an error the way every command does: its code first, then the message. */
export function reportError(error: unknown): number {
  if (isTollgateError(error)) {
    const text = error instanceof ConfigError ? error.format() : error.message
    process.stderr.write(`tollgate: ${error.code}: ${text}\n`)
    return 1
  }
  // A system error (a missing file, a port in use) is the operator's to fix: say it plainly.
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && error instanceof Error) {
    process.stderr.write(`tollgate: ${code}: ${error.message}\n`)
    return 1
  }
  const detail = error instanceof Error ? error.stack : String(error)
  process.stderr.write(`tollgate: unexpected error: ${detail}\n`)
  return 1
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
