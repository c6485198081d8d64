import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { entryParts, resolveInRoot, UnsafeEntryError } from './safe-path.js'
import type { TarEntry } from './tar-reader.js'

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'

/**
 * Unpacks one layer's entries over `root`, OCI-style: `.wh.NAME` deletes NAME from the layers
 * below, `.wh..wh..opq` empties its directory of what the layers below put there. Entries are
 * written as the current user (owners are not kept) without setuid/setgid bits; devices are
 * skipped (an unprivileged user cannot create them, and the box gets a fresh /dev anyway).
 * Every path is resolved inside `root` (see resolveInRoot): nothing is written outside it.
 */
export function applyLayer(root: string, entries: Iterable<TarEntry>): void {
  // What this layer itself created: an opaque marker hides only the layers below.
  const created = new Set<string>()
  for (const entry of entries) {
    const parts = entryParts(entry.name)
    const base = parts.at(-1)
    if (base === undefined) continue // the archive's own `./`
    if (base === OPAQUE) {
      emptyDirectory(resolveInRoot(root, parts.slice(0, -1), true), created)
    } else if (base.startsWith(WHITEOUT)) {
      const hidden = [...parts.slice(0, -1), base.slice(WHITEOUT.length)]
      rmSync(resolveInRoot(root, hidden), { recursive: true, force: true })
    } else {
      const path = resolveInRoot(root, parts)
      writeEntry(root, path, entry)
      created.add(path)
    }
  }
}

function writeEntry(root: string, path: string, entry: TarEntry): void {
  const mode = entry.mode & 0o1777
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
  if (entry.type === '5') {
    if (!isDirectory(path)) replace(path, () => mkdirSync(path))
    // Writable by us so later layers can change it; the box sees the root read-only anyway.
    chmodSync(path, mode | 0o700)
    return
  }
  switch (entry.type) {
    case '0':
    case '7':
      replace(path, () => writeFileSync(path, entry.data, { mode }))
      chmodSync(path, mode)
      return
    case '2':
      replace(path, () => symlinkSync(entry.linkName, path))
      return
    case '1': {
      // A hard link's target is another entry of the image, resolved the same safe way.
      const target = resolveInRoot(root, entryParts(entry.linkName))
      if (!lstatSync(target, { throwIfNoEntry: false })?.isFile()) {
        throw new UnsafeEntryError(`hard link ${entry.name} to a non-file ${entry.linkName}`)
      }
      replace(path, () => linkSync(target, path))
      return
    }
    default:
      return // character and block devices, FIFOs: skipped
  }
}

function replace(path: string, create: () => void): void {
  rmSync(path, { recursive: true, force: true })
  create()
}

function isDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false
}

function emptyDirectory(dir: string, keep: ReadonlySet<string>): void {
  if (!isDirectory(dir)) return
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (!keep.has(path)) rmSync(path, { recursive: true, force: true })
  }
}
