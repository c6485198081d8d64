import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { TollgateError } from '../../errors/tollgate-error.js'
import { BRIDGE_FAILED_STATUS } from '../box-paths.js'
import type { SandboxLimits } from '../sandbox-limits.js'
import { BOX_CGROUP_PREFIX, writeCgroupFile, type CgroupWrite } from './enable-controllers.js'

/** The scheduling period `cpu.max` quotas are given in, in microseconds (the kernel's default). */
export const CPU_PERIOD_US = 100_000

/** How the box ended, as its cgroup saw it. */
export interface BoxCgroupOutcome {
  /** Processes the kernel's OOM killer ended because of `memory.max`. */
  oomKills: number
  /** False when the cgroup still existed after the retries (it is then left behind). */
  removed: boolean
}

/**
 * One box's cgroup, `<our cgroup>/tollgate-<sandboxId>`, holding bwrap and everything in the
 * box. Its limits bind the box as a whole, not each process: memory (resident, with no swap),
 * process count and CPU bandwidth.
 */
export class BoxCgroup {
  readonly dir: string
  #write: CgroupWrite

  private constructor(dir: string, write: CgroupWrite) {
    this.dir = dir
    this.#write = write
  }

  /** Creates the cgroup and writes its limits; a limit that cannot be written stops here. */
  static create(
    parentDir: string,
    sandboxId: string,
    limits: SandboxLimits,
    write: CgroupWrite = writeCgroupFile,
  ): BoxCgroup {
    const cgroup = new BoxCgroup(join(parentDir, `${BOX_CGROUP_PREFIX}${sandboxId}`), write)
    try {
      mkdirSync(cgroup.dir)
      for (const [file, value] of cgroupLimitFiles(limits)) cgroup.#set(file, value)
    } catch (error) {
      rmdirQuietly(cgroup.dir)
      const message = `could not set up the sandbox's cgroup ${cgroup.dir}`
      throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', message, { cause: error })
    }
    cgroup.#setSwapOff(limits)
    return cgroup
  }

  /** The file whose write moves a process into this cgroup. */
  get procsFile(): string {
    return join(this.dir, 'cgroup.procs')
  }

  /**
   * After the box ended: reads how many processes the memory limit killed, kills what is left
   * (nothing, normally: the box's PID namespace died with bwrap), and removes the cgroup, which
   * the kernel allows only once its last process is gone, hence the retries.
   */
  async finish(attempts = 50): Promise<BoxCgroupOutcome> {
    const oomKills = readOomKills(join(this.dir, 'memory.events'))
    const kill = join(this.dir, 'cgroup.kill')
    // cgroup.kill exists from Linux 5.14; older kernels rely on the PID namespace alone.
    if (existsSync(kill)) attemptQuietly(() => this.#write(kill, '1'))
    for (let i = 0; i < attempts; i++) {
      if (rmdirQuietly(this.dir)) return { oomKills, removed: true }
      await sleep(20)
    }
    return { oomKills, removed: false }
  }

  #set(file: string, value: string): void {
    this.#write(join(this.dir, file), value)
  }

  // memory.swap.max exists only with swap accounting. Without it memory.max still caps what
  // the box keeps in RAM, but the box may push more out to swap: docs/sandbox.md says so.
  #setSwapOff(limits: SandboxLimits): void {
    if (limits.memoryBytes === null) return
    const file = join(this.dir, 'memory.swap.max')
    try {
      this.#write(file, '0')
    } catch (error) {
      if (existsSync(file)) {
        this.finishNow()
        throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `could not write ${file}`, {
          cause: error,
        })
      }
    }
  }

  /** Removes the cgroup at once; for a box that never started. */
  finishNow(): void {
    rmdirQuietly(this.dir)
  }
}

/** The interface files and values that carry `limits` (memory, pids, CPU bandwidth). */
export function cgroupLimitFiles(limits: SandboxLimits): Array<[string, string]> {
  const files: Array<[string, string]> = []
  if (limits.memoryBytes !== null) files.push(['memory.max', String(limits.memoryBytes)])
  if (limits.pids !== null) files.push(['pids.max', String(limits.pids)])
  if (limits.cpus !== null) files.push(['cpu.max', cpuMax(limits.cpus)])
  return files
}

/** `cpu.max` for a share of CPUs: 0.5 → `50000 100000` (half of one CPU's time per period). */
export function cpuMax(cpus: number): string {
  return `${Math.round(cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`
}

/**
 * The command that starts bwrap already inside the cgroup. Node has no hook between fork and
 * exec, so a tiny shell writes its own pid into `cgroup.procs` and then execs bwrap: bwrap's
 * first instruction, and every process of the box after it, run under the limits. Should the
 * write fail, nothing runs (status 125, as for any limit that cannot be set).
 */
export function cgroupLauncher(
  procsFile: string,
  bwrap: string,
  args: string[],
): { file: string; args: string[] } {
  const script =
    `echo $$ > "$0" || { echo "tollgate: could not enter the sandbox's cgroup" >&2; ` +
    `exit ${BRIDGE_FAILED_STATUS}; }\nexec "$@"`
  return { file: '/bin/sh', args: ['-c', script, procsFile, bwrap, ...args] }
}

/** The `oom_kill` count of a `memory.events` file; 0 when absent. */
export function readOomKills(file: string): number {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return 0
  }
  const match = /^oom_kill (\d+)$/m.exec(text)
  return match?.[1] === undefined ? 0 : Number(match[1])
}

function rmdirQuietly(dir: string): boolean {
  try {
    rmdirSync(dir)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

function attemptQuietly(action: () => void): void {
  try {
    action()
  } catch {
    // The cgroup is removed below or reported as left behind; nothing more to do here.
  }
}
