import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** How to start one long-running process under a {@link Supervisor}. */
export interface StartOptions {
  /** Short name used in messages and log file names. */
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** File that receives the process's stdout and stderr. */
  logFile: string
}

/**
 * Owns every process the bench starts and tears them all down, even on error or Ctrl-C.
 *
 * Each child runs in its own process group (`detached`), so one `kill(-pid)` reaches the
 * servers' own workers (nginx workers, squid kids) and a terminal's Ctrl-C does not race the
 * orderly teardown.
 */
export class Supervisor {
  #children = new Map<number, ChildProcess>()
  #closing = false

  /** Starts a server-like process whose output goes to a log file. */
  start(options: StartOptions): ChildProcess {
    this.#assertOpen(options.name)
    const fd = openSync(options.logFile, 'a')

    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    })

    closeSync(fd)
    return this.#track(options.name, child)
  }

  /** Starts a short-lived process whose stdout the caller reads (the load generator). */
  startPiped(name: string, command: string, args: string[]): ChildProcess {
    this.#assertOpen(name)
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    return this.#track(name, child)
  }

  /** Whether {@link stopAll} has begun: the run is being torn down. */
  get closing(): boolean {
    return this.#closing
  }

  /** Whether a started process has already exited. */
  hasExited(child: ChildProcess): boolean {
    return child.exitCode !== null || child.signalCode !== null
  }

  /** Stops one process group: SIGTERM, then SIGKILL if it lingers. */
  async stop(child: ChildProcess, graceMs = 3000): Promise<void> {
    if (child.pid === undefined) return

    signalGroup(child.pid, 'SIGTERM')
    const exited = await this.#waitForExit(child, graceMs)
    if (!exited) signalGroup(child.pid, 'SIGKILL')

    // The leader may be gone while its workers linger; the group kill reaches them too.
    signalGroup(child.pid, 'SIGKILL')
    this.#children.delete(child.pid)
  }

  /**
   * Stops everything still running, in reverse start order. Once called, nothing new starts:
   * after Ctrl-C the scenario loop may still be unwinding and must not launch the next proxy.
   */
  async stopAll(): Promise<void> {
    this.#closing = true
    const running = [...this.#children.values()].reverse()

    for (const child of running) await this.stop(child)
  }

  /** Last-resort synchronous teardown for `process.on('exit')`, where nothing async runs. */
  killAllNow(): void {
    for (const pid of this.#children.keys()) signalGroup(pid, 'SIGKILL')
    this.#children.clear()
  }

  #assertOpen(name: string): void {
    if (this.#closing) throw new Error(`${name} not started: the bench is stopping`)
  }

  #track(name: string, child: ChildProcess): ChildProcess {
    // A spawn failure (ENOENT) leaves no PID and also emits 'error', which must not crash us.
    child.once('error', () => {})
    if (child.pid === undefined) {
      throw new Error(`${name} could not be started: is ${child.spawnfile} installed?`)
    }

    // Tracked until stopped, not until exit: the group may hold workers that outlive the leader.
    this.#children.set(child.pid, child)
    return child
  }

  async #waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
    if (this.hasExited(child)) return true

    const exit = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)))
    // Unref'd: a pending grace timer must not keep the bench alive after everything exited.
    const timeout = sleep(timeoutMs, false, { ref: false })
    return Promise.race([exit, timeout])
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}
