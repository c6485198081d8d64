import { readFileSync } from 'node:fs'

import { Ajv2020, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'

import type { IssueList } from './issue-list.js'
import type { RawConfig } from './raw-config.js'
import { SchemaMessages } from './schema-messages.js'

// ajv-formats is CommonJS; under NodeNext its default import is the whole `module.exports`.
const addFormats = addFormatsModule.default

/** Where the published schema lives, relative to this module once compiled into `dist/src`. */
export const CONFIG_SCHEMA_URL = new URL('../../../schema/tollgate.schema.json', import.meta.url)

/** Reads the JSON Schema for `tollgate.yaml` from `schema/tollgate.schema.json`. */
export function readConfigSchema(): SchemaObject {
  return JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as SchemaObject
}

/**
 * Validates a parsed `tollgate.yaml` against the published JSON Schema, so the relay and the
 * editors of its users apply the same rules. Compile once and reuse: compiling costs far more
 * than validating.
 */
export class SchemaValidator {
  readonly #validate: ValidateFunction<RawConfig>
  readonly #messages: SchemaMessages

  constructor(schema: SchemaObject = readConfigSchema()) {
    // strict: a schema typo (an unknown keyword) must fail here, not silently accept anything.
    // strictRequired is off because the credential's `oneOf` branches only say which one
    // injection key must be present; the keys themselves are declared once, beside them.
    // verbose: unknown-key errors need the parent schema to suggest the intended key.
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      verbose: true,
    })
    addFormats(ajv, ['email'])
    this.#validate = ajv.compile<RawConfig>(schema)
    this.#messages = new SchemaMessages(schema)
  }

  /** Whether `data` conforms; every violation is added to `issues`. */
  validate(data: unknown, issues: IssueList): data is RawConfig {
    if (this.#validate(data)) return true

    for (const problem of this.#messages.describe(this.#validate.errors ?? [])) {
      issues.add(problem.path, problem.message, problem.target)
    }
    return false
  }
}
