import { isatty } from 'node:tty'
import { findExecutable } from '../find-executable.js'
import { OutputLog } from '../output-log.js'

/**
 * Where a box's output goes besides the caller's stdout and stderr.
 *
 * - `pipe`: stdout and stderr are pipes that `tollgate run` copies to the caller and the log.
 * - `pty`: the box runs on a pseudo-terminal of script(1), whose output `tollgate run` copies
 *   to the caller's terminal and the log; the agent still has a real terminal.
 * - `terminal`: the box has the caller's terminal itself, and nothing is captured.
 */
export type BoxOutput =
  | { kind: 'pipe'; log: OutputLog }
  | { kind: 'pty'; log: OutputLog; script: string }
  | { kind: 'terminal' }

/** The decision alone, before any log is opened. */
export type OutputChoice =
  { kind: 'pipe' } | { kind: 'pty'; script: string } | { kind: 'terminal'; reason: string }

/** Which of the caller's standard streams are terminals. */
export interface Terminals {
  stdin: boolean
  stdout: boolean
}

/**
 * An interactive run (stdin and stdout both terminals) gets a pseudo-terminal from script(1),
 * so that an editor, a REPL or a coding agent's UI still works while its output is captured.
 * Any other run gets pipes: a terminal on one side only is not an interactive session, and a
 * pseudo-terminal there would echo piped input and turn a redirected file's newlines into CRLF.
 */
export function chooseOutput(terminals: Terminals, script: string | null): OutputChoice {
  if (!terminals.stdin || !terminals.stdout) return { kind: 'pipe' }
  if (script !== null) return { kind: 'pty', script }
  return { kind: 'terminal', reason: 'script(1) from util-linux is not installed' }
}

/**
 * Opens the output log at `path` the way this run's streams call for. A terminal run that
 * cannot be captured leaves a log saying why, and says so on stderr, rather than a missing log.
 */
export function openBoxOutput(path: string): BoxOutput {
  const terminals = { stdin: isatty(0), stdout: isatty(1) }
  const choice = chooseOutput(terminals, findExecutable('script'))
  switch (choice.kind) {
    case 'pipe':
      return { kind: 'pipe', log: new OutputLog(path) }
    case 'pty':
      return { kind: 'pty', log: new OutputLog(path), script: choice.script }
    case 'terminal':
      OutputLog.writeNotCaptured(path, choice.reason)
      process.stderr.write(`tollgate: ${choice.reason}; this run's output is not captured\n`)
      return { kind: 'terminal' }
  }
}

/** The log of a box's output, if it has one, to close when the box has ended. */
export function logOf(output: BoxOutput): OutputLog | null {
  return output.kind === 'terminal' ? null : output.log
}
