import { isIP } from 'node:net'

import { TollgateError } from '../../errors/tollgate-error.js'

/** A host a leaf certificate can be issued for, in canonical form. */
export interface LeafHost {
  /** `ip` hosts get an IP address SAN; clients check IP literals against those, not DNS names. */
  readonly kind: 'dns' | 'ip'
  /** Lower-case DNS name without a trailing dot, or a canonical IPv4/IPv6 literal. */
  readonly name: string
}

const MAX_DNS_NAME = 253
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/

/**
 * Parses a host from a CONNECT target or an SNI name into the form a leaf is minted for.
 * Refuses anything that would make the certificate broader or different from the name asked
 * for: wildcards, IPv6 zone ids, non-ASCII names, and numeric forms such as `127.1` that
 * resolvers read as IPv4 addresses.
 *
 * @throws TollgateError `TOLLGATE_BAD_HOST` when the host cannot be a certificate name.
 */
export function parseLeafHost(host: string): LeafHost {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  const family = isIP(bare)

  if (family === 4) return { kind: 'ip', name: bare }
  if (family === 6) return { kind: 'ip', name: canonicalIpv6(bare) }

  return { kind: 'dns', name: canonicalDnsName(bare) }
}

/** The canonical name used as the cache key and certificate name for `host`. */
export function leafHostKey(host: string): string {
  return parseLeafHost(host).name
}

function canonicalIpv6(address: string): string {
  // A zone id names an interface on this machine; it has no meaning in a certificate.
  if (address.includes('%')) throw badHost('an IPv6 zone id cannot be certified')

  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

function canonicalDnsName(host: string): string {
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase()
  const labels = name.split('.')

  if (name.length === 0 || name.length > MAX_DNS_NAME) throw badHost('bad host name length')
  if (!labels.every((label) => DNS_LABEL.test(label))) throw badHost('bad host name label')

  // WHATWG URL parsers and dns.lookup read `127.1` or `0x7f.1` as an IPv4 address.
  if (NUMERIC_LABEL.test(labels.at(-1) ?? '')) throw badHost('numeric host form')

  return name
}

function badHost(reason: string): TollgateError {
  return new TollgateError('TOLLGATE_BAD_HOST', `cannot issue a certificate: ${reason}`)
}
