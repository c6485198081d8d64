import type { ChildProcess } from 'node:child_process'
import { findAgentPid } from './box-info.js'

/**
 * The signals `tollgate run` passes to the agent: Ctrl-C and Ctrl-\ from a terminal, a
 * supervisor's SIGTERM, a hang-up, and window resizes (the box has no controlling terminal, so
 * the kernel does not send it SIGWINCH itself).
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGWINCH',
]

/**
 * Passes signals to the box's agent, as `docker run` does to a container's first process: the
 * agent gets the signal itself and decides what to do (clean up, save, exit with its own
 * status). bwrap does not pass signals on, and dies of them, which kills the whole box at once
 * (`--die-with-parent`); so the signal goes past it, to the agent's host PID.
 */
export class BoxSignals {
  readonly #child: ChildProcess
  readonly #findAgent: (initPid: number) => number | null
  #initPid: number | null = null
  #abortedBy: NodeJS.Signals | null = null

  /** `child` is the process `tollgate run` started: bwrap, or what runs it. */
  constructor(child: ChildProcess, findAgent = findAgentPid) {
    this.#child = child
    this.#findAgent = findAgent
  }

  /** Called once bwrap has said which host PID is the box's first process. */
  setInitPid(pid: number | null): void {
    this.#initPid = pid
  }

  /** The signal that ended the box before its agent ran, if one did. */
  get abortedBy(): NodeJS.Signals | null {
    return this.#abortedBy
  }

  deliver(signal: NodeJS.Signals): void {
    const agent = this.#initPid === null ? null : this.#findAgent(this.#initPid)
    if (agent !== null) {
      killQuietly(agent, signal)
      return
    }
    if (signal === 'SIGWINCH') return

    // No agent yet (the box is being set up) or any more: nothing to stop gently, so the
    // start is abandoned, as a signal to bwrap itself would have done.
    this.#abortedBy ??= signal
    this.#child.kill('SIGKILL')
  }

  /** Listens for the forwarded signals on this process; returns the function that stops it. */
  install(): () => void {
    const deliver = (signal: NodeJS.Signals) => this.deliver(signal)
    for (const signal of FORWARDED_SIGNALS) process.on(signal, deliver)
    return () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, deliver)
    }
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // The agent ended between the lookup and the signal: its exit status is on its way.
  }
}
