import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { TollgateError } from '../errors/tollgate-error.js'
import { KEPT_OUTPUT_LOGS } from './sandbox-dirs.js'

/** How often `--follow` looks for new output and asks whether the sandbox still runs. */
export const FOLLOW_INTERVAL_MS = 200

const CHUNK_BYTES = 64 * 1024

/** Where `tollgate sandbox logs` sends what it reads. */
export type OutputSink = (chunk: Buffer) => Promise<void>

/**
 * Prints a sandbox's output log. With `isRunning`, keeps printing what is appended until the
 * sandbox stops; the log is read once more after the stop is seen, so nothing written before
 * it is lost (`tollgate run` closes the log before it unregisters the sandbox).
 */
export async function printOutputLog(
  path: string,
  sink: OutputSink,
  isRunning: (() => Promise<boolean>) | null,
): Promise<void> {
  if (isRunning !== null) await waitForLog(path, isRunning)
  const fd = openLog(path)
  try {
    let position = await copyToEnd(fd, 0, sink)
    if (isRunning === null) return
    for (;;) {
      const running = await isRunning()
      position = await copyToEnd(fd, position, sink)
      if (!running) return
      await sleep(FOLLOW_INTERVAL_MS)
    }
  } finally {
    closeSync(fd)
  }
}

// `tollgate run` creates the log just after the sandbox is registered: a follower that came
// between the two waits for it.
async function waitForLog(path: string, isRunning: () => Promise<boolean>): Promise<void> {
  while (!existsSync(path) && existsSync(dirname(path)) && (await isRunning())) {
    await sleep(FOLLOW_INTERVAL_MS)
  }
}

function openLog(path: string): number {
  try {
    return openSync(path, 'r')
  } catch (error) {
    const id = dirname(path).split('/').pop() ?? ''
    if (existsSync(dirname(path))) {
      throw new TollgateError(
        'TOLLGATE_NOT_FOUND',
        `sandbox ${id} has no output log yet; try again, or use --follow`,
        { cause: error },
      )
    }
    throw new TollgateError(
      'TOLLGATE_NOT_FOUND',
      `no sandbox ${id} (unknown, or its log was removed: the newest ${KEPT_OUTPUT_LOGS} stay)`,
      { cause: error },
    )
  }
}

async function copyToEnd(fd: number, from: number, sink: OutputSink): Promise<number> {
  const buffer = Buffer.alloc(CHUNK_BYTES)
  let position = from
  for (;;) {
    const read = readSync(fd, buffer, 0, buffer.length, position)
    if (read === 0) return position
    await sink(Buffer.from(buffer.subarray(0, read)))
    position += read
  }
}
