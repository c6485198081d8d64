import { readFileSync, statSync } from 'node:fs'
import { TollgateError } from '../../errors/tollgate-error.js'
import { resolveInRoot, UnsafeEntryError } from './safe-path.js'

/** The user and group the box's processes run as (`bwrap --uid --gid`). */
export interface BoxUser {
  uid: number
  gid: number
}

/** /etc/passwd and /etc/group of images are small; a huge one is not read whole. */
const MAX_DATABASE_BYTES = 1024 * 1024

/**
 * The uid and gid for an image's `User`: `uid`, `uid:gid`, `name` or `name:group`. Names are
 * looked up in the image's own /etc/passwd and /etc/group (never the host's). A numeric uid
 * without a group takes its passwd entry's group when there is one, else 0, as Docker does.
 */
export function resolveImageUser(rootfs: string, user: string): BoxUser {
  const colon = user.indexOf(':')
  const userPart = colon === -1 ? user : user.slice(0, colon)
  const groupPart = colon === -1 ? null : user.slice(colon + 1)

  const passwd = readDatabase(rootfs, 'passwd')
  const entry = isNumeric(userPart)
    ? passwd.find((fields) => fields[2] === userPart)
    : passwd.find((fields) => fields[0] === userPart)
  if (!isNumeric(userPart) && entry === undefined) {
    throw unknown(`user ${userPart}`, 'passwd')
  }
  const uid = id(isNumeric(userPart) ? userPart : (entry?.[2] ?? ''), user)
  if (groupPart === null) return { uid, gid: entry ? id(entry[3] ?? '', user) : 0 }
  return { uid, gid: groupId(rootfs, groupPart, user) }
}

function groupId(rootfs: string, group: string, user: string): number {
  if (isNumeric(group)) return id(group, user)
  const entry = readDatabase(rootfs, 'group').find((fields) => fields[0] === group)
  if (!entry) throw unknown(`group ${group}`, 'group')
  return id(entry[2] ?? '', user)
}

/** The colon-separated lines of the image's /etc/NAME, resolved inside the image; [] if none. */
function readDatabase(rootfs: string, name: 'passwd' | 'group'): string[][] {
  let path: string
  try {
    path = resolveInRoot(rootfs, ['etc', name], true)
  } catch (error) {
    if (error instanceof UnsafeEntryError) return []
    throw error
  }
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat?.isFile() || stat.size > MAX_DATABASE_BYTES) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'))
}

function isNumeric(text: string): boolean {
  return /^\d+$/.test(text)
}

// 0xffffffff is (uid_t)-1, "no change" to the kernel; it cannot be a box's user.
function id(text: string, user: string): number {
  const value = Number(text)
  if (!isNumeric(text) || value >= 0xffffffff) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `the image's User ${user} is not valid`)
  }
  return value
}

function unknown(what: string, database: string): TollgateError {
  return new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    `the image's User names ${what}, which is not in the image's /etc/${database}`,
  )
}
