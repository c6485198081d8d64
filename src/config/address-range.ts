import { parseCidr } from '../relay/destination/ip-address.js'

/**
 * Why a rule's `addresses` entry is unacceptable, or null when it is fine. Accepted: an IPv4 or
 * IPv6 range in CIDR form, or a bare address (one address). Refused: a prefix of 0, which would
 * open every address at once, and host bits outside the prefix, which usually mean a typo
 * (`10.0.0.1/8` for `10.0.0.0/8`).
 */
export function addressRangeProblem(text: string): string | null {
  const range = parseCidr(text.toLowerCase())
  if (range === null) return 'must be an IP address range such as 10.0.0.0/8 or fd00::/8'
  if (range.bits === 0) return 'would allow every address; list the ranges you mean'

  const address = parseCidr(text.toLowerCase().split('/')[0] ?? '')
  if (address !== null && address.base !== range.base) {
    return `has bits set outside its /${range.bits} prefix`
  }
  return null
}
