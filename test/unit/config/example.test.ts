import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { EXAMPLE_CONFIG } from '../../../src/config/example.js'
import { load } from './config-fixtures.js'

// Compiled tests run from dist/test/unit/config; the example lives at the repository root.
const EXAMPLE_FILE = new URL('../../../../examples/tollgate.example.yaml', import.meta.url)

void test('the example config loads without errors', () => {
  const { config } = load(EXAMPLE_CONFIG, '/home/me/project/tollgate.yaml')

  assert.equal(config.server.stateDir, '/home/me/project/.tollgate')
  assert.deepEqual(
    config.agents.map((a) => [a.name, a.owner, a.team]),
    [['build-bot', 'alice@example.com', 'platform']],
  )
  assert.deepEqual(config.routes, [{ name: 'openai', upstream: 'https://api.openai.com' }])
})

void test('the example shows an allow rule with a header credential and a deny rule', () => {
  const rules = load(EXAMPLE_CONFIG).config.policies.flatMap((p) => p.rules)
  const read = rules.find((r) => r.name === 'read-repos')

  assert.deepEqual(read?.methods, ['GET', 'HEAD'])
  assert.deepEqual(read?.paths, ['/repos/**'])
  assert.equal(read?.credential, 'github-token')
  assert.ok(rules.some((r) => r.effect === 'deny'))
  assert.ok(
    rules.some((r) => r.methods.includes('POST') && r.paths.includes('/v1/chat/completions')),
  )
})

void test('examples/tollgate.example.yaml is the same text as EXAMPLE_CONFIG', () => {
  assert.equal(readFileSync(EXAMPLE_FILE, 'utf8'), EXAMPLE_CONFIG)
})
