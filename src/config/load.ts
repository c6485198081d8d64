import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

import { TollgateError } from '../errors/tollgate-error.js'
import { checkCredentials } from './check-credentials.js'
import { checkReferences } from './check-references.js'
import { ConfigError } from './config-error.js'
import { convertConfig } from './convert-config.js'
import { IssueList } from './issue-list.js'
import { SchemaValidator } from './schema-validator.js'
import type { LoadedConfig, TollgateConfig } from './types.js'
import { YamlSource } from './yaml-source.js'

export interface LoadOptions {
  /**
   * A compiled schema to reuse. Compiling takes tens of milliseconds, so callers that load
   * repeatedly (the watcher, tests) pass one; otherwise each load compiles its own.
   */
  validator?: SchemaValidator
}

/**
 * Reads, validates and converts `tollgate.yaml`. Relative paths in it resolve against the
 * file's directory.
 *
 * @throws ConfigError listing every problem found, each with file, line, column and key path.
 * @throws TollgateError `TOLLGATE_CONFIG_NOT_FOUND` when the file does not exist.
 */
export function loadConfigFile(path: string, options: LoadOptions = {}): LoadedConfig {
  const bytes = readConfigBytes(path)
  return buildConfig(decodeUtf8(bytes, path), path, hashConfigBytes(bytes), options)
}

/**
 * Validates and converts configuration text as if it had been read from `file` (which names
 * the file in messages and anchors relative paths; it need not exist).
 *
 * @throws ConfigError listing every problem found.
 */
export function parseConfigText(
  text: string,
  file: string,
  options: LoadOptions = {},
): LoadedConfig {
  return buildConfig(text, file, hashConfigBytes(Buffer.from(text, 'utf8')), options)
}

/** `sha256:` + hex digest: the version name of a configuration, recorded on audit events. */
export function hashConfigBytes(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

function buildConfig(text: string, file: string, hash: string, options: LoadOptions): LoadedConfig {
  const path = resolve(file)
  const source = new YamlSource(text)
  const issues = new IssueList(file, source)

  const config = checkDocument(
    source,
    issues,
    options.validator ?? new SchemaValidator(),
    dirname(path),
  )
  if (!config || !issues.isEmpty) throw new ConfigError(issues.toArray())
  return { config, path, hash }
}

/**
 * Three passes, each reporting every problem it finds. A pass only runs when the one before
 * it passed: semantic checks on a document of the wrong shape would only add noise.
 */
function checkDocument(
  source: YamlSource,
  issues: IssueList,
  validator: SchemaValidator,
  baseDir: string,
): TollgateConfig | null {
  for (const problem of source.problems()) issues.addAt(problem, '', problem.message)
  if (!issues.isEmpty) return null

  const data = source.toData()
  if (!validator.validate(data, issues)) return null

  const config = convertConfig(data, { baseDir, issues })
  checkReferences(config, issues)
  checkCredentials(config, issues)
  return config
}

function readConfigBytes(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    if (code === 'ENOENT') {
      throw new TollgateError(
        'TOLLGATE_CONFIG_NOT_FOUND',
        `configuration file not found: ${path}`,
        {
          cause: error,
        },
      )
    }
    throw new TollgateError('TOLLGATE_CONFIG_INVALID', `cannot read ${path} (${code})`, {
      cause: error,
    })
  }
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: 'is not valid UTF-8' }])
  }
}
