import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cleanEnv, pollUntil, TOLLGATE_BIN } from '../../helpers/cli.js'
import { shellQuote } from '../../../src/sandbox/terminal/pty-launch.js'
import type { SandboxWorkspace } from './sandbox-workspace.js'

/** util-linux script(1): a pseudo-terminal for the test, as a user's terminal would be. */
export const SCRIPT = '/usr/bin/script'

/** Skip reason when script(1) is missing and CI does not promise it. */
export const NO_SCRIPT =
  !existsSync(SCRIPT) && process.env['CI'] !== 'true' && 'no script(1) for a pseudo-terminal'

/** How long a test lets one run take before it kills it and fails. */
const RUN_TIMEOUT_MS = 30_000

/** A `tollgate run` the test can signal and type into while it runs. */
export interface RunningBox {
  child: ChildProcess
  /** Everything it wrote to stdout (on a terminal: everything the terminal showed). */
  output(): string
  stderr(): string
  /** Its exit code, or null when it died of a signal. */
  exited: Promise<number | null>
  /** Waits until the box has created `name` in the project directory. */
  waitForFile(name: string): Promise<void>
}

/** `tollgate run --agent bot [args] -- sh -c SCRIPT` in the project directory. */
export function runArgs(sb: SandboxWorkspace, script: string, args: string[] = []): string[] {
  const cli = [process.execPath, TOLLGATE_BIN, '--config', sb.ws.configPath]
  return [...cli, 'run', '--agent', 'bot', ...args, '--', 'sh', '-c', script]
}

/**
 * Starts `tollgate run` as a process group of its own, as a shell starts a job, so the test
 * can signal it alone (`kill PID`) or as a terminal does (`kill -PGID`).
 */
export function startBox(sb: SandboxWorkspace, script: string, args: string[] = []): RunningBox {
  const [file = '', ...rest] = runArgs(sb, script, args)
  const child = spawn(file, rest, {
    cwd: sb.project,
    env: cleanEnv({ HOME: sb.home }),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  child.stdin?.end()
  return track(sb, child)
}

/**
 * Starts `tollgate run` on a pseudo-terminal of script(1), so its stdin and stdout are a
 * terminal. Bytes written to `child.stdin` arrive as typed keys (`\x03` is Ctrl-C).
 */
export function startBoxOnTerminal(
  sb: SandboxWorkspace,
  script: string,
  args: string[] = [],
): RunningBox {
  const command = runArgs(sb, script, args).map(shellQuote).join(' ')
  const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {
    cwd: sb.project,
    env: cleanEnv({ HOME: sb.home, SHELL: '/bin/sh' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return track(sb, child)
}

function track(sb: SandboxWorkspace, child: ChildProcess): RunningBox {
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  return {
    child,
    output: () => Buffer.concat(stdout).toString('utf8'),
    stderr: () => Buffer.concat(stderr).toString('utf8'),
    exited,
    waitForFile: (name) =>
      pollUntil(
        () => Promise.resolve(existsSync(join(sb.project, name))),
        `the box to create ${name}`,
        RUN_TIMEOUT_MS,
      ),
  }
}

/** A shell loop that waits (bounded) for `name` to appear in the working directory. */
export function waitInBox(name: string, tenths = 600): string {
  return `i=0; until [ -e ${name} ] || [ "$i" -gt ${tenths} ]; do i=$((i+1)); sleep 0.1; done`
}
