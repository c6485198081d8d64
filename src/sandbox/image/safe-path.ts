import { lstatSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

/** A layer entry that must not be unpacked: it would land outside the image's root. */
export class UnsafeEntryError extends Error {}

/**
 * The path components of a layer entry name, relative to the image root. `./` prefixes and
 * trailing slashes are dropped; an absolute name or any `..` component is refused.
 *
 * @example
 * entryParts('./usr/bin/sh') // ['usr', 'bin', 'sh']
 */
export function entryParts(name: string): string[] {
  if (name.startsWith('/')) throw new UnsafeEntryError(`absolute path in layer: ${name}`)
  const parts = name.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new UnsafeEntryError(`".." in layer path: ${name}`)
  if (parts.some((part) => part.includes('\0'))) throw new UnsafeEntryError('NUL in layer path')
  return parts
}

const MAX_LINKS = 40

/**
 * The host path of `parts` inside `root`, following symlinks already unpacked as the box will
 * see them: an absolute target starts again at the image root, a relative one from its own
 * directory. A link that climbs above the root is refused, so nothing is ever written outside
 * it. The last component is not followed unless `followLast` (it is what the entry replaces).
 */
export function resolveInRoot(root: string, parts: readonly string[], followLast = false): string {
  const resolved: string[] = []
  const pending = [...parts]
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift() as string
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (resolved.length === 0)
        throw new UnsafeEntryError('a symlink in the layer leaves the root')
      resolved.pop()
      continue
    }
    const host = join(root, ...resolved, part)
    const isLast = pending.length === 0
    const target = isLast && !followLast ? null : symlinkTarget(host)
    if (target === null) {
      resolved.push(part)
      continue
    }
    if (++links > MAX_LINKS) throw new UnsafeEntryError('too many symlinks in a layer path')
    if (target.startsWith('/')) resolved.length = 0
    pending.unshift(...target.split('/'))
  }
  return join(root, ...resolved)
}

function symlinkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null
  } catch {
    return null
  }
}
