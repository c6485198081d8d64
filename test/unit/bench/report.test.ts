import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

import type { ScenarioMeasurement } from '../../../bench/lib/measure.js'
import { parseBenchOptions } from '../../../bench/lib/options.js'
import { compare, formatTable } from '../../../bench/lib/report.js'
import { selectScenarios } from '../../../bench/lib/scenarios.js'

function measurement(scenario: string, baseline: string, rps: number, p99: number) {
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 }
  const latencyUs = { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 }
  const m: ScenarioMeasurement = {
    scenario,
    baseline,
    connections: 50,
    requests: rps * 10,
    requestsPerSecond: rps,
    latencyUs,
    errors,
    proxyCpuUsPerRequest: baseline === scenario ? null : 12.5,
    upstreamCpuUsPerRequest: 4,
  }
  return m
}

describe('compare', () => {
  test('gives each scenario its ratio and added p99 against its own baseline', () => {
    const comparisons = compare([
      measurement('direct', 'direct', 100_000, 1000),
      measurement('squid', 'direct', 20_000, 5000),
      measurement('direct-1conn', 'direct-1conn', 30_000, 80),
      measurement('tollgate-1conn', 'direct-1conn', 6_000, 480),
    ])

    assert.equal(comparisons.get('squid')?.throughputRatio, 0.2)
    assert.equal(comparisons.get('squid')?.addedP99Us, 4000)
    assert.equal(comparisons.get('tollgate-1conn')?.addedP99Us, 400)
    assert.equal(comparisons.get('direct')?.throughputRatio, 1)
  })

  test('leaves a scenario uncompared when its baseline did not run', () => {
    const comparisons = compare([measurement('squid', 'direct', 20_000, 5000)])

    assert.equal(comparisons.has('squid'), false)
  })
})

describe('formatTable', () => {
  test('shows failed scenarios as FAILED rather than dropping them', () => {
    const table = formatTable([{ ok: false, scenario: 'tollgate', error: 'no CLI' }])

    assert.match(table, /^tollgate\s+FAILED/m)
  })
})

describe('parseBenchOptions', () => {
  test('defaults to 10 s, 2 s warm-up, 50 connections, every scenario, pinned', () => {
    assert.deepEqual(parseBenchOptions([]), {
      durationSeconds: 10,
      warmupSeconds: 2,
      connections: 50,
      only: null,
      pin: true,
    })
  })

  test('splits --only and refuses nonsense durations', () => {
    const options = parseBenchOptions(['--only', 'direct, squid', '--no-pin'])

    assert.ok(options !== 'help')
    assert.deepEqual(options.only, ['direct', 'squid'])
    assert.equal(options.pin, false)
    assert.throws(() => parseBenchOptions(['--duration', '0']), /--duration/)
  })
})

describe('selectScenarios', () => {
  test('keeps run order and rejects unknown names', () => {
    const names = selectScenarios(['squid', 'direct']).map((s) => s.name)

    assert.deepEqual(names, ['direct', 'squid'])
    assert.throws(() => selectScenarios(['haproxy']), /unknown scenario haproxy/)
  })
})
