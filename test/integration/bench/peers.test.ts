import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { BenchContext, Scenario } from '../../../bench/lib/context.js'
import { choosePinning } from '../../../bench/lib/cpu-pinning.js'
import { findFreePort } from '../../../bench/lib/free-port.js'
import { measureScenario, type LoadSettings } from '../../../bench/lib/measure.js'
import { clockTicksPerSecond, snapshotTreeCpu } from '../../../bench/lib/process-cpu.js'
import { SCENARIOS } from '../../../bench/lib/scenarios.js'
import { startUpstream } from '../../../bench/lib/servers.js'
import { Supervisor } from '../../../bench/lib/supervisor.js'

// The peers come from Debian packages that .ci/run installs; on a developer machine without
// them the suite is skipped, in CI it must run.
const missing = ['nginx', 'squid', 'wrk'].filter((tool) => !hasCommand(tool))
const skip =
  missing.length > 0 && process.env['CI'] !== 'true' ? `needs ${missing.join(', ')}` : false

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name)
  assert.ok(found, `scenario ${name} exists`)
  return found
}

describe('bench harness against real peers', { skip }, () => {
  const supervisor = new Supervisor()
  const dir = mkdtempSync(join(tmpdir(), 'bench-it-'))
  const settings: LoadSettings = {
    durationSeconds: 1,
    warmupSeconds: 1,
    connections: 4,
    clockTicksPerSecond: clockTicksPerSecond(),
  }
  let context: BenchContext
  let upstreamPid: number

  before(async () => {
    chmodSync(dir, 0o755)
    const upstreamPort = await findFreePort()
    const pinning = choosePinning(false)
    context = { dir, supervisor, pinning, repoRoot: process.cwd(), upstreamPort }
    upstreamPid = await startUpstream(context)
  })

  after(async () => {
    await supervisor.stopAll()
    rmSync(dir, { recursive: true, force: true })
  })

  test('direct: requests complete without errors and no proxy CPU is claimed', async () => {
    const m = await measureScenario(context, scenario('direct'), settings, upstreamPid)

    assert.ok(m.requests > 0)
    assert.deepEqual(m.errors, { connect: 0, read: 0, write: 0, status: 0, timeout: 0 })
    assert.equal(m.proxyCpuUsPerRequest, null)
    assert.ok(m.latencyUs.p99 >= m.latencyUs.p50)
  })

  test('squid: absolute-form load passes, X-Bench reaches the upstream, CPU is counted', async () => {
    const m = await measureScenario(context, scenario('squid'), settings, upstreamPid)

    assert.ok(m.requests > 0)
    assert.equal(m.errors.status, 0)
    assert.ok(m.proxyCpuUsPerRequest !== null && m.proxyCpuUsPerRequest > 0)
  })

  test('nginx-reverse is torn down after its scenario', async () => {
    let proxyPid: number | null = null
    const watched: Scenario = {
      ...scenario('nginx-reverse'),
      start: async (c) => {
        const target = await scenario('nginx-reverse').start(c)
        proxyPid = target.proxyPid
        return target
      },
    }

    await measureScenario(context, watched, settings, upstreamPid)

    assert.ok(proxyPid !== null)
    assert.equal(snapshotTreeCpu(proxyPid).size, 0)
  })

  test('a path that skips the expected header work fails the preflight', async () => {
    const lying: Scenario = {
      ...scenario('direct'),
      start: async (c) => ({ ...(await scenario('direct').start(c)), marker: 'x-seen-bench' }),
    }

    await assert.rejects(measureScenario(context, lying, settings, upstreamPid), /did not see/)
  })
})
