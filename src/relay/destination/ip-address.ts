import { isIP } from 'node:net'

/**
 * An IP address as a number: 32 bits for IPv4, 128 bits for IPv6. Ranges and embedded IPv4
 * forms are plain bit arithmetic on it, so no spelling of an address can dodge a check that
 * compares strings.
 */
export interface IpAddress {
  family: 4 | 6
  value: bigint
}

/** An address range: the first `bits` bits of `base` are the prefix. */
export interface Cidr {
  family: 4 | 6
  base: bigint
  bits: number
}

const WIDTH = { 4: 32, 6: 128 } as const

/** Parses an IP literal (no brackets, no zone); null when it is not one. */
export function parseIp(text: string): IpAddress | null {
  // net.isIP accepts zone identifiers (fe80::1%eth0); a zone names an interface, not an address.
  if (text.includes('%')) return null
  const family = isIP(text)
  if (family === 4) return { family: 4, value: parseIPv4(text) }
  if (family === 6) return { family: 6, value: parseIPv6(text) }
  return null
}

/** Parses `a.b.c.d/n` or `v6/n`; a bare address is the single-address range. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/')
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash))
  if (ip === null) return null

  const width = WIDTH[ip.family]
  const bitsText = slash < 0 ? String(width) : text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(bitsText)) return null
  const bits = Number(bitsText)
  if (bits > width) return null
  return { family: ip.family, base: ip.value & prefixMask(ip.family, bits), bits }
}

/** Whether `ip` lies inside `range` (families must agree: v4 ranges never match v6 forms). */
export function cidrContains(range: Cidr, ip: IpAddress): boolean {
  if (range.family !== ip.family) return false
  return (ip.value & prefixMask(range.family, range.bits)) === range.base
}

/** Whether the range holds exactly one address (`/32` or `/128`). */
export function isSingleAddress(range: Cidr): boolean {
  return range.bits === WIDTH[range.family]
}

/** A stable text key for an address, equal for every spelling of it. */
export function addressKey(ip: IpAddress): string {
  return `${ip.family}:${ip.value.toString(16)}`
}

export function formatIPv4(value: bigint): string {
  const n = Number(value & 0xffffffffn)
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

function prefixMask(family: 4 | 6, bits: number): bigint {
  const width = BigInt(WIDTH[family])
  const all = (1n << width) - 1n
  return all ^ ((1n << (width - BigInt(bits))) - 1n)
}

function parseIPv4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
}

// The input passed net.isIP, so only the shapes it accepts need handling: `::` at most once,
// and an optional dotted-quad tail standing for the last two groups.
function parseIPv6(text: string): bigint {
  const groups = ipv6Groups(text)
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n)
}

function ipv6Groups(text: string): number[] {
  const [head = '', tail] = text.split('::')
  const left = splitGroups(head)
  if (tail === undefined) return left
  const right = splitGroups(tail)
  const zeros = new Array<number>(8 - left.length - right.length).fill(0)
  return [...left, ...zeros, ...right]
}

function splitGroups(part: string): number[] {
  if (part === '') return []
  return part.split(':').flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)]
    const v4 = Number(parseIPv4(group))
    return [v4 >>> 16, v4 & 0xffff]
  })
}
