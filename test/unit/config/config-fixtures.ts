import assert from 'node:assert/strict'

import { isConfigError } from '../../../src/config/config-error.js'
import { parseConfigText } from '../../../src/config/load.js'
import { SchemaValidator } from '../../../src/config/schema-validator.js'
import type { LoadedConfig } from '../../../src/config/types.js'

/** One compiled schema for the whole suite: compiling per test would dominate its run time. */
export const validator = new SchemaValidator()

/**
 * A small valid configuration. Tests replace one line at a time, so the line numbers below
 * stay true and assertions can name exact positions.
 */
export const BASE = [
  'version: 1', // 1
  'people:', // 2
  '  - email: alice@example.com', // 3
  '    teams: [platform]', // 4
  'agents:', // 5
  '  - name: bot', // 6
  '    owner: alice@example.com', // 7
  '    team: platform', // 8
  '    policies: [p]', // 9
  'policies:', // 10
  '  - name: p', // 11
  '    rules:', // 12
  '      - name: r', // 13
  '        hosts: [api.github.com]', // 14
  '        credential: gh', // 15
  'credentials:', // 16
  '  - name: gh', // 17
  '    secret: gh', // 18
  '    hosts: [api.github.com]', // 19
  "    header: { name: Authorization, format: 'Bearer {secret}' }", // 20
]

/** BASE with 1-based lines replaced; a replacement may span several lines. */
export function baseWith(replacements: Record<number, string>): string {
  return BASE.map((line, i) => replacements[i + 1] ?? line).join('\n') + '\n'
}

/** BASE with extra lines appended. */
export function baseWithAppended(...lines: string[]): string {
  return [...BASE, ...lines].join('\n') + '\n'
}

export function load(text: string, file = 'tollgate.yaml'): LoadedConfig {
  return parseConfigText(text, file, { validator })
}

/** The formatted issues of a configuration that must be refused. */
export function issuesOf(text: string, file = 'tollgate.yaml'): string[] {
  try {
    load(text, file)
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`)
    return error.format().split('\n')
  }
  assert.fail('expected the configuration to be refused')
}
