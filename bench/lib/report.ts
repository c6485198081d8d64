import type { ScenarioMeasurement } from './measure.js'

/**
 * A scenario's row in the results: its numbers, or why it failed. With several rounds,
 * `measurement` is the median round and `rounds` holds every round's numbers.
 */
export type ScenarioOutcome =
  | {
      ok: true
      measurement: ScenarioMeasurement
      compared: Comparison | null
      rounds?: ScenarioMeasurement[]
    }
  | { ok: false; scenario: string; error: string }

/** How a scenario compares to its baseline (`direct` or `direct-1conn`) from the same run. */
export interface Comparison {
  baseline: string
  throughputRatio: number
  addedP50Us: number
  addedP99Us: number
  /**
   * Requests/s over squid's at the same connection count (`squid` for the `direct` baseline,
   * `squid-1conn` for `direct-1conn`), the peer the throughput target names; null if squid
   * did not run.
   */
  squidRatio: number | null
}

/** The squid scenario a scenario with this baseline is held against. */
const SQUID_PEER: Readonly<Record<string, string>> = {
  direct: 'squid',
  'direct-1conn': 'squid-1conn',
}

/** Compares each measurement to its baseline, when the baseline ran too. */
export function compare(measurements: ScenarioMeasurement[]): Map<string, Comparison> {
  const byName = new Map(measurements.map((m) => [m.scenario, m]))
  const comparisons = new Map<string, Comparison>()

  for (const m of measurements) {
    const base = byName.get(m.baseline)
    if (!base) continue
    const squid = byName.get(SQUID_PEER[m.baseline] ?? '')
    comparisons.set(m.scenario, {
      baseline: base.scenario,
      throughputRatio: m.requestsPerSecond / base.requestsPerSecond,
      addedP50Us: m.latencyUs.p50 - base.latencyUs.p50,
      addedP99Us: m.latencyUs.p99 - base.latencyUs.p99,
      squidRatio: squid ? m.requestsPerSecond / squid.requestsPerSecond : null,
    })
  }
  return comparisons
}

const COLUMNS = [
  'scenario',
  'conns',
  'req/s',
  'vs base',
  'vs squid',
  'p50 µs',
  'p99 µs',
  '+p99 µs',
  'proxy CPU µs/req',
  'steal %',
  'errors',
] as const

/** Shown after the other columns when a run had more than one round. */
const RANGE_COLUMN = 'req/s of each round'

/** The human-readable table printed at the end of a run. */
export function formatTable(outcomes: ScenarioOutcome[]): string {
  const withRounds = outcomes.some((o) => o.ok && (o.rounds?.length ?? 1) > 1)
  const columns: readonly string[] = withRounds ? [...COLUMNS, RANGE_COLUMN] : COLUMNS
  const rows = outcomes.map((o) => {
    const row = toRow(o)
    return withRounds ? [...row, o.ok ? roundsCell(o.rounds) : ''] : row
  })
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((r) => width(r[i]))))

  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
  return [line(columns), ...rows.map(line)].join('\n')
}

function toRow(outcome: ScenarioOutcome): string[] {
  if (!outcome.ok) return [outcome.scenario, 'FAILED', ...COLUMNS.slice(2).map(() => '')]

  const { measurement: m, compared: c } = outcome
  return [
    m.scenario,
    String(m.connections),
    m.requestsPerSecond.toFixed(0),
    c ? `${c.throughputRatio.toFixed(3)}×` : '—',
    squidCell(m, c),
    m.latencyUs.p50.toFixed(0),
    m.latencyUs.p99.toFixed(0),
    c && c.baseline !== m.scenario ? c.addedP99Us.toFixed(0) : '—',
    m.proxyCpuUsPerRequest === null ? '—' : m.proxyCpuUsPerRequest.toFixed(1),
    m.stealPercent === null ? '—' : m.stealPercent.toFixed(1),
    String(errorCount(m)),
  ]
}

function roundsCell(rounds: ScenarioMeasurement[] | undefined): string {
  return (rounds ?? []).map((r) => r.requestsPerSecond.toFixed(0)).join(' ')
}

/** Non-2xx answers, timeouts and socket errors: anything but 0 makes the row suspect. */
export function errorCount(m: ScenarioMeasurement): number {
  return Object.values(m.errors).reduce((sum, n) => sum + n, 0)
}

function width(cell: string | undefined): number {
  return cell?.length ?? 0
}

// The column is for the proxies squid is a peer of: squid itself would always read 1.00×,
// and the baselines are no proxy at all.
function squidCell(m: ScenarioMeasurement, c: Comparison | null): string {
  if (c === null || c.squidRatio === null) return '—'
  if (m.scenario === m.baseline || m.scenario.startsWith('squid')) return '—'
  return `${c.squidRatio.toFixed(2)}×`
}
