import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** Which CPU each side of the load runs on; `null` everywhere when pinning is off. */
export interface Pinning {
  enabled: boolean
  loadGeneratorCpu: number | null
  proxyCpu: number | null
  /** The upstream is left to the scheduler: pinning it to either core would starve one side. */
  upstreamCpu: null
  reason: string
}

/**
 * Decides whether to pin with `taskset`: the load generator on CPU 0 and the proxy under test
 * on CPU 1, so that they do not steal each other's core on a 2-core machine.
 */
export function choosePinning(requested: boolean): Pinning {
  const off = (reason: string): Pinning => ({
    enabled: false,
    loadGeneratorCpu: null,
    proxyCpu: null,
    upstreamCpu: null,
    reason,
  })

  if (!requested) return off('disabled with --no-pin')
  if (availableParallelism() < 2) return off('fewer than 2 CPUs')
  if (!hasTaskset()) return off('taskset not found')

  return { enabled: true, loadGeneratorCpu: 0, proxyCpu: 1, upstreamCpu: null, reason: 'taskset' }
}

/** Wraps a command so it starts on one CPU; unchanged when `cpu` is `null`. */
export function pinned(
  cpu: number | null,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (cpu === null) return { command, args }
  return { command: 'taskset', args: ['-c', String(cpu), command, ...args] }
}

function hasTaskset(): boolean {
  const result = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
  return result.status === 0
}
