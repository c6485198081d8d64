import { existsSync, lstatSync, readlinkSync } from 'node:fs'
import { BOX_SYSTEM_BUNDLE } from './box-paths.js'

/** One top-level path of the host system as the box sees it. */
export interface HostRootEntry {
  path: string
  /** The link target when the host path is a symlink (`/bin -> usr/bin`), else null. */
  symlink: string | null
}

/** What of the host system a box gets, read-only; facts read once per run, then passed in. */
export interface HostRoot {
  entries: HostRootEntry[]
  /** Whether the host has the system trust bundle the box's relay CA replaces. */
  hasSystemBundle: boolean
}

/**
 * The system directories a box shares with the host. Not /home, /root, /run, /var, /srv or
 * /mnt: whatever a user or a service keeps there (dotfiles, sockets, state) stays outside.
 */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc']

/** Reads which system paths exist on this host and which are merged-/usr symlinks. */
export function readHostRoot(): HostRoot {
  const entries: HostRootEntry[] = []
  for (const path of SYSTEM_PATHS) {
    const stat = lstatOrNull(path)
    if (!stat) continue
    if (stat.isSymbolicLink()) entries.push({ path, symlink: readlinkSync(path) })
    else if (stat.isDirectory()) entries.push({ path, symlink: null })
  }
  return { entries, hasSystemBundle: existsSync(BOX_SYSTEM_BUNDLE) }
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}
