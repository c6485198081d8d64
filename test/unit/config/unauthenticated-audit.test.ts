import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { baseWith, baseWithAppended, issuesOf, load } from './config-fixtures.js'

const withBound = (value: string) =>
  baseWithAppended('server:', `  limits: { unauthenticatedAudit: ${value} }`)

void describe('server.limits.unauthenticatedAudit', () => {
  void test('defaults to 20 events per 10 seconds', () => {
    const { config } = load(baseWith({}))
    assert.deepEqual(config.server.limits.unauthenticatedAudit, {
      events: 1000,
      intervalMs: 10_000,
    })
  })

  void test('is read with its duration in milliseconds; a key left out keeps its default', () => {
    const both = load(withBound('{ events: 5, interval: 200ms }')).config
    assert.deepEqual(both.server.limits.unauthenticatedAudit, { events: 5, intervalMs: 200 })
    const events = load(withBound('{ events: 3 }')).config
    assert.deepEqual(events.server.limits.unauthenticatedAudit, { events: 3, intervalMs: 10_000 })
  })

  void test('null turns the bound off', () => {
    const { config } = load(withBound('null'))
    assert.equal(config.server.limits.unauthenticatedAudit, null)
  })

  void test('zero events is refused at its key: it would mean "audit none of them"', () => {
    const issues = issuesOf(withBound('{ events: 0 }')).join('\n')
    assert.match(issues, /unauthenticatedAudit\.events/)
    assert.doesNotMatch(issues, /interval/)
  })

  void test('bad intervals are refused at their key', () => {
    for (const bad of ['0s', '30d', 'soon', '-1s']) {
      const issues = issuesOf(withBound(`{ interval: ${bad} }`)).join('\n')
      assert.match(issues, /unauthenticatedAudit\.interval/, bad)
    }
    const zero = issuesOf(withBound('{ interval: 0 }')).join('\n')
    assert.match(zero, /unauthenticatedAudit\.interval: must be greater than 0/)
  })

  void test('unknown keys and wrong types are refused at their key', () => {
    const unknown = issuesOf(withBound('{ event: 5 }')).join('\n')
    assert.match(unknown, /unauthenticatedAudit: unknown key "event"/)
    assert.match(issuesOf(withBound('{ events: 2.5 }')).join('\n'), /unauthenticatedAudit\.events/)
    assert.match(issuesOf(withBound('off')).join('\n'), /unauthenticatedAudit/)
  })
})
