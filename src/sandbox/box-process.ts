import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { isatty } from 'node:tty'
import type { BoxCommand } from './box-command.js'
import { INFO_CHILD_FD, readBoxInitPid } from './box-info.js'
import { BoxSignals } from './box-signals.js'
import { closeInheritedFds } from './inherited-fds.js'
import type { OutputLog } from './output-log.js'
import type { BoxOutput } from './terminal/box-output.js'
import { PTY_LIFELINE_FD, PTY_STDERR_FD, ptyLaunch } from './terminal/pty-launch.js'

export { SECCOMP_CHILD_FD } from './box-command.js'

/** Exit status when the wall time ran out, as timeout(1) reports it. */
export const WALL_TIME_STATUS = 124

/** How one box process is wired to `tollgate run`. */
export interface BoxIo {
  /** An fd of ours holding the seccomp program, handed to bwrap as fd 3; null for none. */
  seccompFd: number | null
  output: BoxOutput
  wallSeconds: number | null
}

/**
 * Writes the seccomp program to a file in the sandbox's own 0700 directory, opens it and
 * unlinks it: the fd is all bwrap needs, and no copy stays behind. The caller closes the fd.
 */
export function openProgramFd(sandboxDir: string, program: Buffer): number {
  const path = join(sandboxDir, 'seccomp.bpf')
  writeFileSync(path, program, { mode: 0o600, flag: 'wx' })
  try {
    return openSync(path, 'r')
  } finally {
    rmSync(path, { force: true })
  }
}

/**
 * Runs the box to completion (`command` is bwrap from {@link bwrapCommand}, or its cgroup
 * launcher): the agent's exit status is the result. SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * SIGWINCH go to the agent itself (see {@link BoxSignals}). bwrap runs in a session of its
 * own, so a terminal's Ctrl-C reaches `tollgate run` only, never bwrap, whose death would kill
 * the box at once. Resolves once the box's output streams are drained, so the log is complete.
 */
export function runBox(command: BoxCommand, io: BoxIo): Promise<number> {
  closeInheritedFds()
  const launch = launchOf(command, io)
  const child = spawn(launch.file, launch.args, {
    stdio: launch.stdio,
    env: launch.env,
    detached: true,
  })
  copyOutput(child, io.output)

  const signals = new BoxSignals(child)
  const info = readableAt(child, INFO_CHILD_FD)
  void (info ? readBoxInitPid(info) : Promise.resolve(null)).then((pid) => {
    signals.setInitPid(pid)
  })
  const uninstall = signals.install()
  const wall = wallTimer(child, io.wallSeconds)

  return new Promise((done, fail) => {
    child.once('error', (error) => {
      uninstall()
      wall.cancel()
      fail(error)
    })
    child.once('close', (code, signal) => {
      uninstall()
      wall.cancel()
      done(exitStatus(code, signal, wall.expired(), signals.abortedBy))
    })
  })
}

interface Launch extends BoxCommand {
  stdio: StdioOptions
  env: NodeJS.ProcessEnv
}

function launchOf(command: BoxCommand, io: BoxIo): Launch {
  const seccomp = io.seccompFd ?? 'ignore'
  switch (io.output.kind) {
    case 'pty':
      return ptyLaunch(command, {
        script: io.output.script,
        seccompFd: io.seccompFd,
        stderrIsTerminal: isatty(2),
      })
    case 'pipe':
      return { ...command, stdio: ['inherit', 'pipe', 'pipe', seccomp, 'pipe'], env: process.env }
    case 'terminal':
      return {
        ...command,
        stdio: ['inherit', 'inherit', 'inherit', seccomp, 'pipe'],
        env: process.env,
      }
  }
}

function copyOutput(child: ChildProcess, output: BoxOutput): void {
  if (output.kind === 'terminal') return
  if (child.stdout) tee(child.stdout, process.stdout, output.log)
  const stderr = output.kind === 'pty' ? readableAt(child, PTY_STDERR_FD) : child.stderr
  if (stderr) tee(stderr, process.stderr, output.log)
  // Held open, never written: it closes when this process dies, and the relay sees that.
  if (output.kind === 'pty') readableAt(child, PTY_LIFELINE_FD)?.resume()
}

/** Our end of the pipe at the child's fd `fd`, if the child was given one there. */
function readableAt(child: ChildProcess, fd: number): Readable | null {
  const streams = child.stdio as unknown as Array<Readable | null | undefined>
  return streams[fd] ?? null
}

// The terminal keeps getting everything, at its own pace (pipe applies backpressure); the log
// gets the same chunks in arrival order. A reader of ours that goes away must not stop the box.
function tee(from: Readable, to: Writable, log: OutputLog): void {
  from.on('data', (chunk: Buffer) => log.write(chunk))
  from.pipe(to, { end: false })
  to.once('error', () => {
    from.unpipe(to)
    from.resume()
  })
}

interface WallTimer {
  expired(): boolean
  cancel(): void
}

// Killing what we started takes the whole box with it: bwrap (directly, or when script(1)'s
// relay dies of the hang-up) kills everything in the box as it dies.
function wallTimer(child: ChildProcess, seconds: number | null): WallTimer {
  let expired = false
  const timer =
    seconds === null
      ? null
      : setTimeout(() => {
          expired = true
          process.stderr.write('tollgate: the sandbox reached its wall time\n')
          child.kill('SIGKILL')
        }, seconds * 1000)
  return {
    expired: () => expired,
    cancel: () => {
      if (timer) clearTimeout(timer)
    },
  }
}

function exitStatus(
  code: number | null,
  signal: NodeJS.Signals | null,
  timedOut: boolean,
  abortedBy: NodeJS.Signals | null,
): number {
  if (timedOut) return WALL_TIME_STATUS
  if (code !== null) return code
  return 128 + signalNumber(abortedBy ?? signal)
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 1 : constants.signals[signal]
}

/** Closes an fd of ours if there is one. */
export function closeFd(fd: number | null): void {
  if (fd !== null) closeSync(fd)
}
