import { isIPv4, isIPv6 } from 'node:net'
import { domainToASCII } from 'node:url'
import { TollgateError } from '../../errors/tollgate-error.js'

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/

/**
 * Turns a host as the agent spelled it into the one canonical form policy matches on: lower
 * case, no trailing dot, IDN as punycode, IPv6 compressed without brackets. Spellings that
 * resolvers read as IPv4 but `net.isIP` does not (`2130706433`, `0x7f.1`, `127.1`) become the
 * dotted quad they spell (WHATWG host parsing, inside `domainToASCII`), so the rule and the
 * address check for that address are the ones that decide; a name whose last label is numeric
 * but spells no address is refused.
 */
export function canonicalHost(raw: string): string {
  const known = READ_HOSTS.get(raw)
  if (known !== undefined) return known

  const host = readHost(raw)
  if (READ_HOSTS.size >= MAX_READ_HOSTS) READ_HOSTS.clear()
  READ_HOSTS.set(raw, host)
  return host
}

/**
 * Hosts already read, as spelled: an agent asks for the same few hosts over and over, twice a
 * request (target and `Host`), and `domainToASCII` is the costly step. Only hosts that read
 * cleanly are kept, and the map starts over when full, so junk cannot grow it.
 */
const READ_HOSTS = new Map<string, string>()
const MAX_READ_HOSTS = 1024

function readHost(raw: string): string {
  if (raw.startsWith('[') && raw.endsWith(']')) return canonicalIPv6(raw.slice(1, -1))
  if (raw.length === 0 || raw.length > 253 + 1) throw badHost('empty or too long')

  const trimmed = raw.endsWith('.') ? raw.slice(0, -1) : raw
  // One trailing dot is the root; anything more is an empty label, which resolvers disagree on.
  if (trimmed.endsWith('.') || trimmed.startsWith('.')) throw badHost('not a valid host name')
  const ascii = domainToASCII(trimmed)
  if (ascii === '' || ascii.endsWith('.')) throw badHost('not a valid host name')
  // The limit applies to the name as resolved: IDN labels grow when converted to punycode.
  if (ascii.length > 253) throw badHost('too long')
  if (isIPv4(ascii)) return canonicalIPv4(ascii)

  const labels = ascii.split('.')
  // WHATWG URL parsers treat a host whose last label is numeric as an IPv4 address.
  if (NUMERIC_LABEL.test(labels.at(-1) ?? '')) throw ambiguous()
  if (!labels.every((label) => LABEL.test(label))) throw badHost('not a valid host name')
  return ascii
}

function canonicalIPv4(address: string): string {
  // net.isIPv4 refuses leading zeros already; this keeps the dotted-quad exactly.
  return address
}

function canonicalIPv6(address: string): string {
  if (address.includes('%')) throw badHost('zone identifiers are not allowed')
  if (!isIPv6(address)) throw badHost('not a valid IPv6 address')
  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

/** How a canonical host is written in an authority (`Host` header, URL). */
export function formatAuthorityHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function badHost(why: string): TollgateError {
  return new TollgateError('TOLLGATE_BAD_HOST', `the request host is ${why}`)
}

function ambiguous(): TollgateError {
  return new TollgateError(
    'TOLLGATE_AMBIGUOUS_TARGET',
    'numeric host spellings other than dotted-quad IPv4 are refused',
  )
}
