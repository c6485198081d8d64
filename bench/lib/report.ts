import type { ScenarioMeasurement } from './measure.js'

/** A scenario's row in the results: its numbers, or why it failed. */
export type ScenarioOutcome =
  | { ok: true; measurement: ScenarioMeasurement; compared: Comparison | null }
  | { ok: false; scenario: string; error: string }

/** How a scenario compares to its baseline (`direct` or `direct-1conn`) from the same run. */
export interface Comparison {
  baseline: string
  throughputRatio: number
  addedP50Us: number
  addedP99Us: number
}

/** Compares each measurement to its baseline, when the baseline ran too. */
export function compare(measurements: ScenarioMeasurement[]): Map<string, Comparison> {
  const byName = new Map(measurements.map((m) => [m.scenario, m]))
  const comparisons = new Map<string, Comparison>()

  for (const m of measurements) {
    const base = byName.get(m.baseline)
    if (!base) continue
    comparisons.set(m.scenario, {
      baseline: base.scenario,
      throughputRatio: m.requestsPerSecond / base.requestsPerSecond,
      addedP50Us: m.latencyUs.p50 - base.latencyUs.p50,
      addedP99Us: m.latencyUs.p99 - base.latencyUs.p99,
    })
  }
  return comparisons
}

const COLUMNS = [
  'scenario',
  'conns',
  'req/s',
  'vs base',
  'p50 µs',
  'p99 µs',
  '+p99 µs',
  'proxy CPU µs/req',
  'errors',
] as const

/** The human-readable table printed at the end of a run. */
export function formatTable(outcomes: ScenarioOutcome[]): string {
  const rows = outcomes.map(toRow)
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((r) => width(r[i]))))

  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
  return [line(COLUMNS), ...rows.map(line)].join('\n')
}

function toRow(outcome: ScenarioOutcome): string[] {
  if (!outcome.ok) return [outcome.scenario, 'FAILED', '', '', '', '', '', '', '']

  const { measurement: m, compared: c } = outcome
  return [
    m.scenario,
    String(m.connections),
    m.requestsPerSecond.toFixed(0),
    c ? `${c.throughputRatio.toFixed(3)}×` : '—',
    m.latencyUs.p50.toFixed(0),
    m.latencyUs.p99.toFixed(0),
    c && c.baseline !== m.scenario ? c.addedP99Us.toFixed(0) : '—',
    m.proxyCpuUsPerRequest === null ? '—' : m.proxyCpuUsPerRequest.toFixed(1),
    String(errorCount(m)),
  ]
}

/** Non-2xx answers, timeouts and socket errors: anything but 0 makes the row suspect. */
export function errorCount(m: ScenarioMeasurement): number {
  return Object.values(m.errors).reduce((sum, n) => sum + n, 0)
}

function width(cell: string | undefined): number {
  return cell?.length ?? 0
}
