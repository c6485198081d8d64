import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

import type { ScenarioMeasurement } from '../../../bench/lib/measure.js'
import { parseBenchOptions } from '../../../bench/lib/options.js'
import { compare, formatTable, type ScenarioOutcome } from '../../../bench/lib/report.js'
import { combineRounds, medianOf } from '../../../bench/lib/rounds.js'
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
    stealPercent: 0.5,
  }
  return m
}

/** One round as run.ts builds it: every outcome with its comparison from that round. */
function round(...measurements: ScenarioMeasurement[]): ScenarioOutcome[] {
  const comparisons = compare(measurements)
  return measurements.map((m) => ({
    ok: true,
    measurement: m,
    compared: comparisons.get(m.scenario) ?? null,
  }))
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

  test('holds each scenario against squid at its own connection count', () => {
    const comparisons = compare([
      measurement('direct', 'direct', 100_000, 1000),
      measurement('squid', 'direct', 20_000, 5000),
      measurement('tollgate', 'direct', 10_000, 9000),
      measurement('direct-1conn', 'direct-1conn', 30_000, 80),
      measurement('squid-1conn', 'direct-1conn', 8_000, 300),
      measurement('tollgate-1conn', 'direct-1conn', 2_000, 480),
    ])

    assert.equal(comparisons.get('tollgate')?.squidRatio, 0.5)
    assert.equal(comparisons.get('tollgate-1conn')?.squidRatio, 0.25)
  })

  test('has no squid ratio when squid did not run', () => {
    const comparisons = compare([
      measurement('direct', 'direct', 100_000, 1000),
      measurement('tollgate', 'direct', 10_000, 9000),
    ])

    assert.equal(comparisons.get('tollgate')?.squidRatio, null)
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

  test('shows the squid ratio and the steal share, and squid is not held against itself', () => {
    const table = formatTable(
      round(
        measurement('direct', 'direct', 100_000, 1000),
        measurement('squid', 'direct', 20_000, 5000),
        measurement('tollgate', 'direct', 10_000, 9000),
      ),
    )
    const [header, direct, squid, tollgate] = table.split('\n')

    assert.match(header ?? '', /vs squid .* steal %/)
    assert.doesNotMatch(header ?? '', /each round/)
    assert.match(tollgate ?? '', /^tollgate .* 0\.50× .* 0\.5 +0$/)
    assert.match(squid ?? '', /^squid .*× +— .* 0\.5 +0$/)
    assert.match(direct ?? '', /^direct .*× +— .* 0\.5 +0$/)
  })
})

describe('combineRounds', () => {
  const rounds = [
    round(
      measurement('direct', 'direct', 100_000, 1000),
      measurement('squid', 'direct', 20_000, 5000),
      measurement('tollgate', 'direct', 9_000, 9000),
    ),
    round(
      measurement('direct', 'direct', 50_000, 1000),
      measurement('squid', 'direct', 10_000, 5000),
      measurement('tollgate', 'direct', 6_000, 7000),
    ),
    round(
      measurement('direct', 'direct', 90_000, 1000),
      measurement('squid', 'direct', 20_000, 5000),
      measurement('tollgate', 'direct', 12_000, 8000),
    ),
  ]

  test('reports the median round of each scenario, and every round besides', () => {
    const combined = combineRounds(rounds)
    const tollgate = combined[2]

    assert.ok(tollgate?.ok)
    assert.equal(tollgate.measurement.requestsPerSecond, 9_000)
    assert.equal(tollgate.measurement.latencyUs.p99, 9000)
    assert.deepEqual(
      tollgate.rounds?.map((r) => r.requestsPerSecond),
      [9_000, 6_000, 12_000],
    )
  })

  test('takes the median of the per-round ratios, not the ratio of the medians', () => {
    const tollgate = combineRounds(rounds)[2]

    assert.ok(tollgate?.ok)
    // Per round: 0.45, 0.6, 0.6 against squid; the median rounds alone would say 0.45.
    assert.equal(tollgate.compared?.squidRatio, 0.6)
    assert.equal(tollgate.compared?.throughputRatio, 0.12)
  })

  test('a scenario that failed in any round is failed', () => {
    const failed: ScenarioOutcome = { ok: false, scenario: 'tollgate', error: 'crashed' }
    const broken = [rounds[0] ?? [], [...(rounds[1] ?? []).slice(0, 2), failed]]

    assert.deepEqual(combineRounds(broken)[2], failed)
    assert.ok(combineRounds(broken)[1]?.ok)
  })

  test('lists each round in the table', () => {
    const table = formatTable(combineRounds(rounds))

    assert.match(table, /req\/s of each round/)
    assert.match(table, /^tollgate .* 9000 6000 12000$/m)
  })
})

describe('medianOf', () => {
  test('is the middle value, or the lower middle one of an even count', () => {
    assert.equal(medianOf([3, 1, 2]), 2)
    assert.equal(medianOf([4, 1, 3, 2]), 2)
    assert.ok(Number.isNaN(medianOf([])))
  })
})

describe('parseBenchOptions', () => {
  test('defaults to 10 s, 2 s warm-up, 50 connections, every scenario, pinned', () => {
    assert.deepEqual(parseBenchOptions([]), {
      durationSeconds: 10,
      warmupSeconds: 2,
      connections: 50,
      rounds: 1,
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
    assert.throws(() => parseBenchOptions(['--rounds', '21']), /--rounds .* 1 to 20/)
  })
})

describe('selectScenarios', () => {
  test('keeps run order and rejects unknown names', () => {
    const names = selectScenarios(['squid', 'direct']).map((s) => s.name)

    assert.deepEqual(names, ['direct', 'squid'])
    assert.throws(() => selectScenarios(['haproxy']), /unknown scenario haproxy/)
  })
})
