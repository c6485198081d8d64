import type { ScenarioMeasurement } from './measure.js'
import type { Comparison, ScenarioOutcome } from './report.js'

/**
 * Folds several rounds of the same scenarios into one row each. On a shared machine one
 * scenario can land in a quiet second and the next in a busy one; running every scenario once
 * per round, round after round, and keeping the median spreads that luck evenly.
 *
 * A row's numbers are those of its median round by requests/s (one real run, so its p99 and
 * CPU belong together); its comparisons are the medians of the per-round comparisons, each of
 * which set two scenarios of the same round side by side. A scenario that failed in any round
 * is reported as failed: a number from the rounds that happened to work would look sound.
 */
export function combineRounds(rounds: ScenarioOutcome[][]): ScenarioOutcome[] {
  const first = rounds[0] ?? []
  return first.map((_, index) => combineScenario(rounds.map((round) => round[index])))
}

function combineScenario(outcomes: (ScenarioOutcome | undefined)[]): ScenarioOutcome {
  const measured: ScenarioMeasurement[] = []
  const compared: Comparison[] = []

  for (const outcome of outcomes) {
    if (outcome === undefined) throw new Error('rounds ran different scenarios')
    if (!outcome.ok) return outcome
    measured.push(outcome.measurement)
    if (outcome.compared) compared.push(outcome.compared)
  }

  const median = lowerMedianBy(measured, (m) => m.requestsPerSecond)
  if (median === undefined) throw new Error('a scenario without rounds')
  return {
    ok: true,
    measurement: median,
    compared: compared.length === measured.length ? medianComparison(compared) : null,
    rounds: measured,
  }
}

function medianComparison(all: Comparison[]): Comparison | null {
  const first = all[0]
  if (first === undefined) return null

  const squid = all.map((c) => c.squidRatio)
  return {
    baseline: first.baseline,
    throughputRatio: medianOf(all.map((c) => c.throughputRatio)),
    addedP50Us: medianOf(all.map((c) => c.addedP50Us)),
    addedP99Us: medianOf(all.map((c) => c.addedP99Us)),
    squidRatio: squid.every((r) => r !== null) ? medianOf(squid) : null,
  }
}

/** The middle value; of an even count, the lower of the two middle ones (a value that was seen). */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

function lowerMedianBy<T>(items: T[], key: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}
