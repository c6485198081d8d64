import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

import { pinned } from './cpu-pinning.js'
import type { Supervisor } from './supervisor.js'

/** One wrk run. */
export interface WrkOptions {
  /** What wrk connects to: the upstream for `direct`, the proxy otherwise. */
  url: string
  script: string
  connections: number
  durationSeconds: number
  cpu: number | null
}

/** Numbers printed by the script's `done()` hook. */
export interface WrkResult {
  requests: number
  durationUs: number
  bytes: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number }
}

/** Per-request timeout: a hung proxy shows up as timeouts, not as a hung bench. */
const REQUEST_TIMEOUT = '5s'

/**
 * Runs wrk with one thread (the other core belongs to the proxy) and returns its summary.
 * wrk is killed if it overruns its duration by more than 30 s.
 */
export async function runWrk(supervisor: Supervisor, options: WrkOptions): Promise<WrkResult> {
  const args = [
    ...['-t1', `-c${options.connections}`, `-d${options.durationSeconds}s`],
    ...['--timeout', REQUEST_TIMEOUT, '-s', options.script, options.url],
  ]
  const { command, args: fullArgs } = pinned(options.cpu, 'wrk', args)

  const child = supervisor.startPiped('wrk', command, fullArgs)
  const overrunMs = (options.durationSeconds + 30) * 1000
  const deadline = sleep(overrunMs, 'overrun' as const, { ref: false })
  const outcome = await Promise.race([collect(child), deadline])

  if (outcome === 'overrun') {
    await supervisor.stop(child)
    throw new Error(`wrk did not finish within ${options.durationSeconds + 30} s`)
  }
  await supervisor.stop(child)
  return parseWrkOutput(outcome.stdout, outcome.stderr, outcome.code)
}

/** Extracts the `WRK_JSON` line; throws with wrk's own output when there is none. */
export function parseWrkOutput(stdout: string, stderr: string, code: number | null): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '))

  if (code !== 0 || line === undefined) {
    const output = `${stdout}\n${stderr}`.trim().slice(-2000)
    throw new Error(`wrk failed (exit ${code}): ${output}`)
  }
  return toWrkResult(JSON.parse(line.slice('WRK_JSON '.length)) as unknown)
}

function toWrkResult(value: unknown): WrkResult {
  const record = value as Partial<WrkResult> | null
  const numbers = [
    record?.requests,
    record?.durationUs,
    record?.bytes,
    ...Object.values(record?.errors ?? {}),
    ...Object.values(record?.latencyUs ?? {}),
  ]

  if (numbers.length !== 13 || numbers.some((n) => typeof n !== 'number')) {
    throw new Error('wrk printed an unexpected summary')
  }
  return record as WrkResult
}

async function collect(
  child: ChildProcess,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  let stdout = ''
  let stderr = ''

  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))

  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return { stdout, stderr, code }
}
