import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { baseWith, baseWithAppended, issuesOf, load } from './config-fixtures.js'

void describe('server.limits and the request timeouts', () => {
  void test('rates and caps are read; an agent may set its own rate', () => {
    const { config } = load(
      baseWithAppended(
        'server:',
        '  limits:',
        '    connections: 100',
        '    unauthenticatedConnections: 50',
        '    unauthenticatedPerAddress: 5',
        '    rate: { requestsPerSecond: 2.5, burst: 10 }',
        '  timeouts: { requestBodyIdle: 5s, request: 2m }',
      ).replace('    policies: [p]', '    policies: [p]\n    rate: { requestsPerSecond: 0.5 }'),
    )

    const { limits, timeouts } = config.server
    assert.equal(limits.connections, 100)
    assert.equal(limits.unauthenticatedConnections, 50)
    assert.equal(limits.unauthenticatedPerAddress, 5)
    assert.deepEqual(limits.rate, { requestsPerSecond: 2.5, burst: 10 })
    assert.equal(timeouts.requestBodyIdleMs, 5000)
    assert.equal(timeouts.requestMs, 120_000)
    // Without a burst the bucket holds one second's worth, and at least one request.
    assert.deepEqual(config.agents[0]?.rate, { requestsPerSecond: 0.5, burst: 1 })
  })

  void test('no rate limit unless one is written', () => {
    const { config } = load(baseWith({}))
    assert.equal(config.server.limits.rate, null)
    assert.equal(config.agents[0]?.rate, undefined)
  })

  void test('caps that contradict each other are refused, each at its key', () => {
    const issues = issuesOf(
      baseWithAppended(
        'server:',
        '  limits: { connections: 10, unauthenticatedConnections: 20, unauthenticatedPerAddress: 30 }',
      ),
    )
    assert.equal(issues.length, 2, issues.join('\n'))
    assert.match(issues[0] ?? '', /unauthenticatedConnections: must be at most server.limits.conn/)
    assert.match(issues[1] ?? '', /unauthenticatedPerAddress: must be at most server.limits.unauth/)
  })

  void test('a zero or negative rate and a zero timeout are refused', () => {
    const rate = issuesOf(
      baseWithAppended('server:', '  limits: { rate: { requestsPerSecond: 0 } }'),
    )
    assert.equal(rate.length, 1, rate.join('\n'))
    assert.match(rate[0] ?? '', /rate\.requestsPerSecond: must be greater than 0/)
    const idle = issuesOf(baseWithAppended('server:', '  timeouts: { requestBodyIdle: 0s }'))
    assert.match(idle.join('\n'), /requestBodyIdle: must be greater than 0/)
  })
})
