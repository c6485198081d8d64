import { spawn, type StdioOptions } from 'node:child_process'
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { OutputLog } from './output-log.js'

/** Exit status when the wall time ran out, as timeout(1) reports it. */
export const WALL_TIME_STATUS = 124

/** The fd number bwrap finds the seccomp program on: the first slot after stdio. */
export const SECCOMP_CHILD_FD = 3

/** How one box process is wired to `tollgate run`. */
export interface BoxIo {
  /** An fd of ours holding the seccomp program, handed to bwrap as fd 3; null for none. */
  seccompFd: number | null
  /** Where stdout and stderr are copied besides the terminal; null to inherit them untouched. */
  log: OutputLog | null
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
 * Runs bwrap to completion: its exit status is the agent's. SIGINT, SIGTERM and SIGHUP are
 * passed on to bwrap, whose death kills everything in the box (`--die-with-parent`). Resolves
 * once the box's output streams are drained, so the log is complete.
 */
export function runBox(bwrap: string, args: string[], io: BoxIo): Promise<number> {
  const output = io.log === null ? 'inherit' : 'pipe'
  const stdio: StdioOptions = ['inherit', output, output]
  if (io.seccompFd !== null) stdio.push(io.seccompFd)
  const child = spawn(bwrap, args, { stdio })
  if (io.log !== null && child.stdout && child.stderr) {
    tee(child.stdout, process.stdout, io.log)
    tee(child.stderr, process.stderr, io.log)
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of signals) process.on(signal, forward)

  let timedOut = false
  const timer =
    io.wallSeconds === null
      ? null
      : setTimeout(() => {
          timedOut = true
          process.stderr.write('tollgate: the sandbox reached its wall time\n')
          child.kill('SIGKILL')
        }, io.wallSeconds * 1000)

  return new Promise((done, fail) => {
    child.once('error', fail)
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      for (const s of signals) process.off(s, forward)
      if (timedOut) done(WALL_TIME_STATUS)
      else done(code ?? 128 + signalNumber(signal))
    })
  })
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

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 1 : constants.signals[signal]
}

/** Closes an fd of ours if there is one. */
export function closeFd(fd: number | null): void {
  if (fd !== null) closeSync(fd)
}
