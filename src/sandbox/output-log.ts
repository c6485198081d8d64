import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { TollgateError } from '../errors/tollgate-error.js'

/** The file in `<stateDir>/sandboxes/<id>/` that holds what the box wrote to stdout/stderr. */
export const OUTPUT_LOG_NAME = 'output.log'

/** Where a log stops growing: an agent printing in a loop must not fill the state disk. */
export const OUTPUT_LOG_MAX_BYTES = 10 * 1024 * 1024

const SANDBOX_ID = /^sbx_[0-9a-f]{16}$/

/**
 * The output log of sandbox `id`. The id is checked first: it becomes a path, and
 * `sandbox logs ../../x` must not read outside the sandboxes directory.
 */
export function outputLogPath(stateDir: string, id: string): string {
  if (!SANDBOX_ID.test(id)) {
    throw new TollgateError('TOLLGATE_NOT_FOUND', `no sandbox ${id} (ids look like sbx_ + 16 hex)`)
  }
  return join(stateDir, 'sandboxes', id, OUTPUT_LOG_NAME)
}

/** The line that ends a log which reached its cap. */
export function capMarker(maxBytes: number): string {
  return `\n[tollgate: the output log reached ${maxBytes} bytes; later output is not recorded]\n`
}

/** The whole log of a run on a terminal that could not be captured, and why not. */
export function notCapturedNote(reason: string): string {
  return `[tollgate: this sandbox ran on a terminal and ${reason}; its output was not captured]\n`
}

/**
 * An append-only copy of a box's output, capped at `maxBytes` (then one marker line, then
 * nothing). Writes are synchronous, so stdout and stderr chunks land in the order they arrived
 * and the log is complete when the box's streams close.
 */
export class OutputLog {
  #fd: number | null
  #written = 0
  #capped = false
  #maxBytes: number

  /** Creates the log (mode 0600); an existing file is refused rather than appended to. */
  constructor(path: string, maxBytes = OUTPUT_LOG_MAX_BYTES) {
    this.#fd = openSync(path, 'wx', 0o600)
    this.#maxBytes = maxBytes
  }

  write(chunk: Buffer): void {
    if (this.#fd === null || this.#capped) return
    const room = this.#maxBytes - this.#written
    if (chunk.length <= room) {
      writeSync(this.#fd, chunk)
      this.#written += chunk.length
      return
    }
    writeSync(this.#fd, chunk.subarray(0, room))
    this.#written += room
    writeSync(this.#fd, capMarker(this.#maxBytes))
    this.#capped = true
  }

  /** Writes the note that stands for the log of a terminal run that could not be captured. */
  static writeNotCaptured(path: string, reason: string): void {
    writeFileSync(path, notCapturedNote(reason), { mode: 0o600, flag: 'wx' })
  }

  close(): void {
    if (this.#fd === null) return
    closeSync(this.#fd)
    this.#fd = null
  }
}
