import { existsSync, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs'
import { join } from 'node:path'
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
  /** Entries of the host's /etc that the box sees empty: those not every user may read. */
  hidden: HiddenEntry[]
}

/** A file or directory the box gets an empty stand-in for. */
export interface HiddenEntry {
  path: string
  kind: 'file' | 'directory'
}

/** The directory whose unreadable entries are hidden: where hosts keep their own secrets. */
const SECRETS_DIR = '/etc'

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
  return {
    entries,
    hasSystemBundle: existsSync(BOX_SYSTEM_BUNDLE),
    hidden: hiddenEntries(SECRETS_DIR),
  }
}

/**
 * The entries below `dir` that not every user of the host may read: `/etc/shadow`, SSH host
 * keys, `/etc/ssl/private`, a database's password file. The box's files are read with the
 * caller's uid, so a `tollgate run` started as root could read them all (uid 0 owns them,
 * whatever capabilities the box has dropped); hiding them gives every caller's box the same
 * `/etc` an unprivileged user sees. Symlinks are left alone: their targets are checked where
 * they live, and one leading out of the host system leads nowhere in the box. A hidden
 * directory is not looked into.
 */
export function hiddenEntries(dir: string): HiddenEntry[] {
  const hidden: HiddenEntry[] = []
  for (const name of readdirQuietly(dir)) {
    const path = join(dir, name)
    const stat = lstatOrNull(path)
    if (!stat || stat.isSymbolicLink()) continue
    if (stat.isDirectory()) {
      if (isWorldListable(stat)) hidden.push(...hiddenEntries(path))
      else hidden.push({ path, kind: 'directory' })
    } else if (!isWorldReadable(stat)) {
      hidden.push({ path, kind: 'file' })
    }
  }
  return hidden
}

function isWorldReadable(stat: Stats): boolean {
  return (stat.mode & 0o004) !== 0
}

function isWorldListable(stat: Stats): boolean {
  return (stat.mode & 0o005) === 0o005
}

function readdirQuietly(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    // Unreadable by us, so unreadable in the box too.
    return []
  }
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}
