import { spawn, type StdioOptions } from 'node:child_process'
import { closeSync } from 'node:fs'
import { Socket } from 'node:net'
import { constants } from 'node:os'

/**
 * What the relay inside script(1)'s session runs, and which of its inherited fds are what.
 * script(1) hands its child every fd it inherited, so these are the numbers `tollgate run`
 * gave script.
 */
export interface PtyRelaySpec {
  /** `tollgate run`'s PID: where the terminal's signals are sent on. */
  outerPid: number
  /** The seccomp program for bwrap, or null for none. */
  seccompFd: number | null
  /** Where bwrap writes its info JSON, read by `tollgate run`. */
  infoFd: number
  /** The caller's stderr when it is not a terminal (then the box's stderr); null for the pty. */
  stderrFd: number | null
  /** Closes when `tollgate run` dies, whatever kills it. */
  lifelineFd: number
  file: string
  args: string[]
}

/** The terminal's signals: sent on to `tollgate run`, which passes them to the agent. */
const RELAYED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH']

/**
 * Signals the relay must survive: script(1) answers its own SIGINT/SIGTERM with a SIGTERM to
 * the relay, and `tollgate run` passes those on itself; a stopped relay (Ctrl-Z on the
 * pseudo-terminal) would stop relaying while the box runs on.
 */
const IGNORED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']

/** Status when the relay gives up on the box because its terminal or `tollgate run` is gone. */
const HANGUP_STATUS = 128 + constants.signals.SIGHUP

/** Reads the spec `tollgate run` wrote into script(1)'s command line. */
export function parsePtyRelaySpec(text: string): PtyRelaySpec {
  const spec = JSON.parse(text) as Partial<PtyRelaySpec>
  const isFd = (fd: unknown) => Number.isSafeInteger(fd) && (fd as number) > 2
  const valid =
    Number.isSafeInteger(spec.outerPid) &&
    (spec.seccompFd === null || isFd(spec.seccompFd)) &&
    (spec.stderrFd === null || isFd(spec.stderrFd)) &&
    isFd(spec.infoFd) &&
    isFd(spec.lifelineFd) &&
    typeof spec.file === 'string' &&
    Array.isArray(spec.args) &&
    spec.args.every((arg) => typeof arg === 'string')
  if (!valid) throw new Error('malformed pty relay spec')
  return spec as PtyRelaySpec
}

/** bwrap's fds: the pseudo-terminal, the caller's stderr if not a terminal, seccomp and info. */
export function relayStdio(spec: PtyRelaySpec): StdioOptions {
  return [0, 1, spec.stderrFd ?? 2, spec.seccompFd ?? 'ignore', spec.infoFd]
}

/**
 * Runs bwrap (or its cgroup launcher) from inside script(1)'s session, and resolves with its
 * exit status. The relay is the session's foreground process, so the pseudo-terminal's Ctrl-C
 * and Ctrl-\ reach it; bwrap is started in a session of its own so that they never reach
 * bwrap, which would die of them and take the box with it. The relay sends them to `tollgate
 * run`, which passes them to the agent. When the relay dies, bwrap dies (`--die-with-parent`).
 */
export function runPtyRelay(spec: PtyRelaySpec): Promise<number> {
  const child = spawn(spec.file, spec.args, { stdio: relayStdio(spec), detached: true })
  // bwrap has its copies; ours would only keep the caller's pipes open.
  for (const fd of [spec.seccompFd, spec.infoFd, spec.stderrFd]) if (fd !== null) closeSync(fd)

  for (const signal of RELAYED) process.on(signal, () => sendQuietly(spec.outerPid, signal))
  for (const signal of IGNORED) process.on(signal, () => undefined)
  // The pseudo-terminal hung up (script is gone), or `tollgate run` is gone: so is the box.
  process.on('SIGHUP', () => process.exit(HANGUP_STATUS))
  watchLifeline(spec.lifelineFd)

  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal === null ? 1 : constants.signals[signal]))
    })
  })
}

function watchLifeline(fd: number): void {
  const lifeline = new Socket({ fd, readable: true, writable: false })
  lifeline.on('error', () => process.exit(HANGUP_STATUS))
  lifeline.on('close', () => process.exit(HANGUP_STATUS))
  lifeline.resume()
}

function sendQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // `tollgate run` is gone; the lifeline ends the relay.
  }
}
