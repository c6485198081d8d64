import { TollgateError } from '../../errors/tollgate-error.js'
import type { SandboxLimits } from '../sandbox-limits.js'
import {
  detectCgroup2,
  HOST_PROC_PATHS,
  type CgroupController,
  type CgroupSupport,
  type ProcPaths,
} from './detect.js'
import { enableControllers, type CgroupWrite } from './enable-controllers.js'

/** What `--limits-mechanism` asks for. */
export type MechanismChoice = 'auto' | 'cgroup2' | 'rlimit'

export const MECHANISM_CHOICES: readonly MechanismChoice[] = ['auto', 'cgroup2', 'rlimit']

/** The limits with their mechanism decided, and our cgroup's directory under cgroup2. */
export interface MechanismDecision {
  limits: SandboxLimits
  /** Where the box's cgroup is created; null under rlimit. */
  parentDir: string | null
}

/** How to look at the host; tests point it at a tree of their own. */
export interface CgroupHost {
  proc: ProcPaths
  pid: number
  write?: CgroupWrite
}

export const THIS_HOST: CgroupHost = { proc: HOST_PROC_PATHS, pid: process.pid }

/**
 * Decides how `limits` are enforced. `auto` takes cgroup v2 when this process can create a
 * limited child cgroup, else rlimits with the reason recorded; `cgroup2` where that is not
 * possible, or `--cpus` without cgroup v2, is an error naming the reason, since no rlimit can
 * stand in for it and a box must not run with less than it was asked for.
 */
export function decideMechanism(
  choice: MechanismChoice,
  limits: SandboxLimits,
  host: CgroupHost = THIS_HOST,
): MechanismDecision {
  if (choice === 'rlimit') {
    requireNoCpus(limits, 'rlimits were asked for (--limits-mechanism rlimit)')
    const reason = 'asked for with --limits-mechanism rlimit'
    return { limits: { ...limits, mechanism: 'rlimit', fallbackReason: reason }, parentDir: null }
  }

  const support = probeCgroup2(host, neededControllers(limits))
  if (support.usable) {
    const decided: SandboxLimits = { ...limits, mechanism: 'cgroup2', fallbackReason: null }
    return { limits: decided, parentDir: support.dir }
  }
  if (choice === 'cgroup2') {
    const message = `--limits-mechanism cgroup2: cgroup v2 is not usable here: ${support.reason}`
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', message)
  }
  requireNoCpus(limits, `cgroup v2 is not usable here: ${support.reason}`)
  const decided: SandboxLimits = { ...limits, mechanism: 'rlimit', fallbackReason: support.reason }
  return { limits: decided, parentDir: null }
}

/**
 * The controllers a box's cgroup must have. Memory and pids always, whether or not those limits
 * were given, so that the mechanism does not change with the options (a hybrid host's unified
 * hierarchy with no controllers counts as unusable); cpu only for `--cpus`, since not every
 * delegation includes it.
 */
export function neededControllers(limits: SandboxLimits): CgroupController[] {
  return limits.cpus === null ? ['memory', 'pids'] : ['memory', 'pids', 'cpu']
}

/** Detection, then turning the controllers on for our children: the only step that writes. */
export function probeCgroup2(host: CgroupHost, controllers: CgroupController[]): CgroupSupport {
  const support = detectCgroup2(host.proc, controllers)
  if (!support.usable) return support
  const enabled = enableControllers(support.dir, controllers, host.pid, host.write)
  return enabled.ok ? support : { usable: false, reason: enabled.reason }
}

function requireNoCpus(limits: SandboxLimits, why: string): void {
  if (limits.cpus === null) return
  throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `--cpus needs cgroup v2, but ${why}`)
}
