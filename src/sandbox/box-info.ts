import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

/** The fd bwrap writes its JSON facts to (`--info-fd`): the slot after the seccomp program. */
export const INFO_CHILD_FD = 4

/** The agent's PID inside the box: bwrap's reaper is 1 and forks the box's command as 2. */
const AGENT_PID_IN_BOX = 2

// bwrap writes a few hundred bytes; anything longer is not bwrap's.
const MAX_INFO_BYTES = 64 * 1024

/**
 * The host PID of the box's first process (bwrap's reaper, PID 1 in the box), read from the
 * JSON bwrap writes to `--info-fd` once the box's namespaces exist; null when the stream ends
 * without it (bwrap failed before it got there).
 */
export function readBoxInitPid(info: Readable): Promise<number | null> {
  return new Promise((resolve) => {
    let text = ''
    const settle = (pid: number | null) => {
      info.removeAllListeners('data')
      info.resume()
      resolve(pid)
    }
    info.setEncoding('utf8')
    info.on('data', (chunk: string) => {
      text += chunk
      const pid = initPidOf(text)
      if (pid !== null || text.length > MAX_INFO_BYTES) settle(pid)
    })
    info.once('end', () => settle(initPidOf(text)))
    info.once('error', () => settle(null))
  })
}

/** `child-pid` of bwrap's info JSON, or null while the JSON is incomplete. */
export function initPidOf(text: string): number | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  const pid = (parsed as Record<string, unknown> | null)?.['child-pid']
  return Number.isSafeInteger(pid) && (pid as number) > 1 ? (pid as number) : null
}

/**
 * The host PID of the box's agent: the child of bwrap's reaper that is PID 2 in the box's PID
 * namespace. The box's wrapper `exec`s the agent, so the PID is the agent's from the moment it
 * runs. Null when there is none (the box is still being set up, or has ended). Read from
 * `/proc/<pid>/status` (`PPid`, `NSpid`), since `/proc/<pid>/task/<tid>/children` is missing
 * on kernels built without `CONFIG_PROC_CHILDREN`.
 */
export function findAgentPid(initPid: number, procRoot = '/proc'): number | null {
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue
    const status = readQuietly(join(procRoot, entry, 'status'))
    if (status !== null && isAgentStatus(status, initPid)) return Number(entry)
  }
  return null
}

function isAgentStatus(status: string, initPid: number): boolean {
  const ppid = /^PPid:\s+(\d+)$/m.exec(status)?.[1]
  if (ppid === undefined || Number(ppid) !== initPid) return false
  // One PID per namespace level, ours first: the box's level must be there, and be 2.
  const nspid = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? []
  return nspid.length >= 2 && Number(nspid.at(-1)) === AGENT_PID_IN_BOX
}

function readQuietly(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    // The process ended while we looked, or is not ours to read.
    return null
  }
}
