import { closeSync, readdirSync, readFileSync } from 'node:fs'

/** The close-on-exec bit of the `flags` line in /proc/self/fdinfo (octal, as open(2) has it). */
const O_CLOEXEC = 0o2000000

/**
 * Closes the file descriptors this process inherited that a child would inherit in turn.
 * Node opens its own with close-on-exec, but one our caller leaked to us (a shell's,
 * an IDE's, a parent's socket) would pass through bwrap into the box, which does not close
 * them: an open socket to the outside, or a pipe to another program, inside a box whose only
 * way out must be the relay. stdin, stdout, stderr and Node's IPC channel stay.
 */
export function closeInheritedFds(): void {
  const keep = new Set([0, 1, 2, Number(process.env['NODE_CHANNEL_FD'] ?? -1)])
  for (const entry of readdirSync('/proc/self/fd')) {
    const fd = Number(entry)
    if (!Number.isInteger(fd) || keep.has(fd) || !isInheritable(fd)) continue
    try {
      closeSync(fd)
    } catch {
      // The fd that listed /proc/self/fd itself, gone by now.
    }
  }
}

function isInheritable(fd: number): boolean {
  let info: string
  try {
    info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
  } catch {
    return false
  }
  const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1]
  return flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0
}
