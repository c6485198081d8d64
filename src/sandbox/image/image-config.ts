import { TollgateError } from '../../errors/tollgate-error.js'

/**
 * The parts of an image's config (`config` in the OCI image config, the same in a `docker save`
 * config) that change how the box runs. Null means the image does not say.
 */
export interface ImageConfig {
  /** `NAME=value` entries, in order; later ones win. */
  env: string[]
  workingDir: string | null
  entrypoint: string[] | null
  cmd: string[] | null
  /** `uid`, `uid:gid`, `name` or `name:group`, as the image wrote it. */
  user: string | null
}

export const EMPTY_IMAGE_CONFIG: ImageConfig = {
  env: [],
  workingDir: null,
  entrypoint: null,
  cmd: null,
  user: null,
}

/** Reads the runtime part of a parsed image config document; absent fields are null. */
export function parseImageConfig(document: Record<string, unknown>): ImageConfig {
  const section = document['config'] ?? document['Config']
  if (section === undefined || section === null) return EMPTY_IMAGE_CONFIG
  if (typeof section !== 'object') throw invalid('config')
  const config = section as Record<string, unknown>
  const env = stringsOrNull(config['Env'], 'Env') ?? []
  if (env.some((entry) => entry.indexOf('=') <= 0)) throw invalid('Env (NAME=value entries)')
  const workingDir = stringOrNull(config['WorkingDir'], 'WorkingDir')
  if (workingDir !== null && !workingDir.startsWith('/')) {
    throw invalid('WorkingDir (an absolute path)')
  }
  return {
    env,
    workingDir,
    entrypoint: stringsOrNull(config['Entrypoint'], 'Entrypoint'),
    cmd: stringsOrNull(config['Cmd'], 'Cmd'),
    user: stringOrNull(config['User'], 'User'),
  }
}

/** The image's `Env` as a record; a later entry for the same name wins, as in Docker. */
export function imageEnv(config: ImageConfig): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of config.env) {
    const eq = entry.indexOf('=')
    env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

/**
 * What the box runs, as Docker decides it: `Entrypoint` followed by the command given after
 * `--`, or by the image's `Cmd` when none was given. Empty is refused: there is nothing to run.
 */
export function boxCommand(config: ImageConfig, given: readonly string[]): string[] {
  const tail = given.length > 0 ? given : (config.cmd ?? [])
  const command = [...(config.entrypoint ?? []), ...tail]
  if (command.length === 0) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      'no command: give one after --, or use an image whose config has an Entrypoint or Cmd',
    )
  }
  return command
}

function stringOrNull(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string') throw invalid(field)
  return value
}

function stringsOrNull(value: unknown, field: string): string[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value) || !value.every((part) => typeof part === 'string')) {
    throw invalid(`${field} (a list of strings)`)
  }
  return value
}

function invalid(field: string): TollgateError {
  return new TollgateError('TOLLGATE_INVALID_ARGUMENT', `the image config has an invalid ${field}`)
}
