import type { StdioOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SECCOMP_CHILD_FD, type BoxCommand } from '../box-command.js'
import { INFO_CHILD_FD } from '../box-info.js'
import type { PtyRelaySpec } from './pty-relay.js'

/** Where script(1) gets the caller's stderr when it is not a terminal. */
export const PTY_STDERR_FD = 5
/** The pipe whose closing tells the relay that `tollgate run` is gone. */
export const PTY_LIFELINE_FD = 6

const RELAY_MAIN = fileURLToPath(new URL('./pty-relay-main.js', import.meta.url))

/** How `tollgate run` starts a box on a pseudo-terminal. */
export interface PtyLaunch extends BoxCommand {
  stdio: StdioOptions
  env: NodeJS.ProcessEnv
}

export interface PtyOptions {
  script: string
  /** Our fd holding the seccomp program, handed on as fd 3; null for none. */
  seccompFd: number | null
  /** Whether the caller's stderr is a terminal: then the box's stderr is the pty too. */
  stderrIsTerminal: boolean
}

/**
 * `script -q -e -c 'exec node pty-relay-main.js SPEC' /dev/null`: script(1) makes a
 * pseudo-terminal the size of the caller's, puts the caller's terminal in raw mode, and copies
 * between the two; its child, the relay, starts `command` (bwrap) on the pseudo-terminal. Its
 * stdout is a pipe, so `tollgate run` sees every byte the box's terminal shows and copies it
 * to the caller's terminal and the output log; its typescript file is /dev/null, since script
 * cannot cap a log without stopping the box.
 */
export function ptyLaunch(command: BoxCommand, options: PtyOptions): PtyLaunch {
  const spec: PtyRelaySpec = {
    outerPid: process.pid,
    seccompFd: options.seccompFd === null ? null : SECCOMP_CHILD_FD,
    infoFd: INFO_CHILD_FD,
    stderrFd: options.stderrIsTerminal ? null : PTY_STDERR_FD,
    lifelineFd: PTY_LIFELINE_FD,
    file: command.file,
    args: command.args,
  }
  const relay = [process.execPath, RELAY_MAIN, JSON.stringify(spec)].map(shellQuote).join(' ')
  return {
    file: options.script,
    args: ['-q', '-e', '-c', `exec ${relay}`, '/dev/null'],
    stdio: [
      'inherit',
      'pipe',
      'inherit',
      options.seccompFd ?? 'ignore',
      'pipe',
      options.stderrIsTerminal ? 'ignore' : 'pipe',
      'pipe',
    ],
    // script(1) runs its command with $SHELL -c; the caller's login shell may not be POSIX.
    env: { ...process.env, SHELL: '/bin/sh' },
  }
}

/** One word for /bin/sh, whatever it contains. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}
