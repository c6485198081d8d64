import { resolve } from 'node:path'
import { existsSync } from 'node:fs'
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

/** Prints an error the way every command does: its code first, then the message. */
export function reportError(error: unknown): number {
  if (isTollgateError(error)) {
    const text = error instanceof ConfigError ? error.format() : error.message
    process.stderr.write(`tollgate: ${error.code}: ${text}\n`)
    return 1
  }
  process.stderr.write(
    `tollgate: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`,
  )
  return 1
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
