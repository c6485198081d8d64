import { parseIp } from '../destination/ip-address.js'

const V4_MAPPED_PREFIX = 0xffffn

/**
 * The key under which a client address is counted. IPv4 addresses count alone; an IPv6 client
 * counts by its /64, because one host is routinely handed a whole /64 and could otherwise open
 * each connection from a fresh address. IPv4-mapped IPv6 counts as the IPv4 address it is.
 */
export function addressGroup(address: string): string {
  const ip = parseIp(address)
  if (ip === null) return address
  if (ip.family === 4) return `4:${ip.value.toString(16)}`
  if (ip.value >> 32n === V4_MAPPED_PREFIX) return `4:${(ip.value & 0xffffffffn).toString(16)}`
  return `6:${(ip.value >> 64n).toString(16)}`
}
