import type { BenchContext, RunningTarget, Scenario } from './context.js'
import { BODY_BYTES } from './nginx-config.js'
import { assertPreflight, sendOnce } from './preflight.js'
import { readMachineCpu, stealPercent } from './machine-cpu.js'
import { snapshotTreeCpu, ticksBetween } from './process-cpu.js'
import { runWrk, type WrkResult } from './wrk.js'
import { writeWrkScript } from './wrk-script.js'

/** Load settings shared by every scenario of a run. */
export interface LoadSettings {
  durationSeconds: number
  warmupSeconds: number
  connections: number
  clockTicksPerSecond: number
}

/** The measured numbers of one scenario. */
export interface ScenarioMeasurement {
  scenario: string
  baseline: string
  connections: number
  requests: number
  requestsPerSecond: number
  latencyUs: WrkResult['latencyUs']
  errors: WrkResult['errors']
  /** Proxy CPU (all processes of its tree) per request; `null` without a proxy. */
  proxyCpuUsPerRequest: number | null
  /** The upstream's own CPU per request, to see whether a proxy shifts work onto it. */
  upstreamCpuUsPerRequest: number
  /**
   * Percent of the machine's CPU time the hypervisor took away during the measured window;
   * null where `/proc/stat` has no steal column. A few percent already moves every number.
   */
  stealPercent: number | null
}

/**
 * Runs one scenario: start, one checked request, warm-up load (discarded), measured load with
 * CPU snapshots around it, stop. The target is stopped whatever happens.
 */
export async function measureScenario(
  context: BenchContext,
  scenario: Scenario,
  settings: LoadSettings,
  upstreamPid: number,
): Promise<ScenarioMeasurement> {
  const target = await scenario.start(context)

  try {
    const connections = scenario.connections ?? settings.connections
    const response = await sendOnce(target.port, target.shape)
    assertPreflight(scenario.name, response, { bodyBytes: BODY_BYTES, marker: target.marker })

    const script = writeWrkScript(context.dir, scenario.name, target.shape)
    const load = { url: target.url, script, connections, cpu: context.pinning.loadGeneratorCpu }
    await runWrk(context.supervisor, { ...load, durationSeconds: settings.warmupSeconds })

    const cpu = await underCpuWatch(target, upstreamPid, () =>
      runWrk(context.supervisor, { ...load, durationSeconds: settings.durationSeconds }),
    )
    return summarise(scenario, connections, cpu, settings.clockTicksPerSecond)
  } finally {
    await target.stop()
  }
}

interface Watched {
  wrk: WrkResult
  proxyTicks: number | null
  upstreamTicks: number
  stealPercent: number | null
}

async function underCpuWatch(
  target: RunningTarget,
  upstreamPid: number,
  work: () => Promise<WrkResult>,
): Promise<Watched> {
  const proxyBefore = target.proxyPid === null ? null : snapshotTreeCpu(target.proxyPid)
  const upstreamBefore = snapshotTreeCpu(upstreamPid)
  const machineBefore = readMachineCpu()

  const wrk = await work()

  const steal = stealPercent(machineBefore, readMachineCpu())
  const proxyTicks =
    target.proxyPid === null || proxyBefore === null
      ? null
      : ticksBetween(proxyBefore, snapshotTreeCpu(target.proxyPid))
  const upstreamTicks = ticksBetween(upstreamBefore, snapshotTreeCpu(upstreamPid))
  return { wrk, proxyTicks, upstreamTicks, stealPercent: steal }
}

function summarise(
  scenario: Scenario,
  connections: number,
  watched: Watched,
  ticksPerSecond: number,
): ScenarioMeasurement {
  const { wrk } = watched
  if (wrk.requests === 0) throw new Error(`${scenario.name}: no request completed`)

  const perRequestUs = (ticks: number): number => (ticks / ticksPerSecond / wrk.requests) * 1e6

  return {
    scenario: scenario.name,
    baseline: scenario.baseline,
    connections,
    requests: wrk.requests,
    requestsPerSecond: wrk.requests / (wrk.durationUs / 1e6),
    latencyUs: wrk.latencyUs,
    errors: wrk.errors,
    proxyCpuUsPerRequest: watched.proxyTicks === null ? null : perRequestUs(watched.proxyTicks),
    upstreamCpuUsPerRequest: perRequestUs(watched.upstreamTicks),
    stealPercent: watched.stealPercent,
  }
}
