/**
 * Side-by-side proxy benchmark: the same nginx upstream, the same wrk load, one run, for
 * direct access, nginx as reverse proxy, squid and Tollgate as forward proxies.
 *
 * Usage: `node dist/bench/run.js [--duration 10] [--connections 50] [--only a,b]`.
 * See bench/README.md for what each number means.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { BenchContext, Scenario } from './lib/context.js'
import { choosePinning } from './lib/cpu-pinning.js'
import { findFreePort } from './lib/free-port.js'
import { measureScenario, type LoadSettings } from './lib/measure.js'
import { parseBenchOptions, USAGE, type BenchOptions } from './lib/options.js'
import { clockTicksPerSecond } from './lib/process-cpu.js'
import { compare, formatTable, type ScenarioOutcome } from './lib/report.js'
import { describeMachine, writeResults } from './lib/results.js'
import { combineRounds } from './lib/rounds.js'
import { selectScenarios } from './lib/scenarios.js'
import { startUpstream } from './lib/servers.js'
import { Supervisor } from './lib/supervisor.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

async function main(argv: string[]): Promise<number> {
  const options = parseBenchOptions(argv)
  if (options === 'help') {
    console.log(USAGE)
    return 0
  }

  const scenarios = selectScenarios(options.only)
  const supervisor = new Supervisor()
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'))
  // squid drops root before opening its files and must be able to enter this directory.
  chmodSync(dir, 0o755)
  installTeardown(supervisor, dir)

  let ok = false
  try {
    ok = await runBench(options, scenarios, supervisor, dir)
    return ok ? 0 : 1
  } finally {
    await supervisor.stopAll()
    if (ok) rmSync(dir, { recursive: true, force: true })
    else console.error(`logs kept in ${dir}`)
  }
}

async function runBench(
  options: BenchOptions,
  scenarios: Scenario[],
  supervisor: Supervisor,
  dir: string,
): Promise<boolean> {
  const startedAt = new Date().toISOString()
  const pinning = choosePinning(options.pin)
  const upstreamPort = await findFreePort()
  const context: BenchContext = { dir, supervisor, pinning, repoRoot: REPO_ROOT, upstreamPort }

  const upstreamPid = await startUpstream(context)

  console.log(`pinning: ${describePinning(pinning)}`)
  const settings = loadSettings(options)
  const rounds: ScenarioOutcome[][] = []
  for (let round = 1; round <= options.rounds && !supervisor.closing; round++) {
    if (options.rounds > 1) console.log(`round ${round} of ${options.rounds}`)
    rounds.push(await runScenarios(context, scenarios, settings, upstreamPid))
  }
  // Interrupted: what ran was cut short, so no table and no results file that looks real.
  if (supervisor.closing) return false

  const outcomes = options.rounds > 1 ? combineRounds(rounds) : (rounds[0] ?? [])
  console.log(`\n${formatTable(outcomes)}`)
  const machine = describeMachine()
  const path = writeResults(REPO_ROOT, { startedAt, options, pinning, machine, outcomes })
  console.log(`\nresults: ${path}`)
  return outcomes.every((outcome) => outcome.ok)
}

function loadSettings(options: BenchOptions): LoadSettings {
  return {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
    clockTicksPerSecond: clockTicksPerSecond(),
  }
}

/** Runs scenarios one after another; one failing does not stop the others. */
async function runScenarios(
  context: BenchContext,
  scenarios: Scenario[],
  settings: LoadSettings,
  upstreamPid: number,
): Promise<ScenarioOutcome[]> {
  const measured: ScenarioOutcome[] = []

  for (const scenario of scenarios) {
    if (context.supervisor.closing) break
    const conns = scenario.connections ?? settings.connections
    console.log(
      `▶ ${scenario.name}: ${conns} conn, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s`,
    )
    measured.push(await runOne(context, scenario, settings, upstreamPid))
  }
  return withComparisons(measured)
}

async function runOne(
  context: BenchContext,
  scenario: Scenario,
  settings: LoadSettings,
  upstreamPid: number,
): Promise<ScenarioOutcome> {
  try {
    const measurement = await measureScenario(context, scenario, settings, upstreamPid)
    return { ok: true, measurement, compared: null }
  } catch (error) {
    const message = describeError(error)
    console.error(`  ${scenario.name} failed: ${message}`)
    return { ok: false, scenario: scenario.name, error: message }
  }
}

function withComparisons(outcomes: ScenarioOutcome[]): ScenarioOutcome[] {
  const measurements = outcomes.flatMap((o) => (o.ok ? [o.measurement] : []))
  const comparisons = compare(measurements)

  return outcomes.map((o) =>
    o.ok ? { ...o, compared: comparisons.get(o.measurement.scenario) ?? null } : o,
  )
}

function describePinning(pinning: ReturnType<typeof choosePinning>): string {
  if (!pinning.enabled) return `off (${pinning.reason})`
  return `wrk on CPU ${pinning.loadGeneratorCpu}, proxy on CPU ${pinning.proxyCpu}, upstream unpinned`
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)

  const { cause } = error
  if (cause === undefined) return error.message

  // Causes here are CLI stderr text or nested errors, never the token or secret.
  const text = typeof cause === 'string' ? cause : describeError(cause)
  return `${error.message}\n${text}`
}

/**
 * Ctrl-C or a kill must not leave nginx, squid or Tollgate listening: stop everything, then
 * exit with the conventional 128 + signal code. The `exit` hook is the synchronous backstop.
 */
function installTeardown(supervisor: Supervisor, dir: string): void {
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    console.error(`\n${signal}: stopping everything`)
    void supervisor.stopAll().finally(() => {
      rmSync(dir, { recursive: true, force: true })
      process.exit(code)
    })
  }

  process.once('SIGINT', () => onSignal('SIGINT', 130))
  process.once('SIGTERM', () => onSignal('SIGTERM', 143))
  process.once('exit', () => supervisor.killAllNow())
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`bench failed: ${describeError(error)}`)
    process.exitCode = 1
  },
)
