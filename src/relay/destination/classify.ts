import { formatIPv4, parseCidr, cidrContains, type Cidr, type IpAddress } from './ip-address.js'

/**
 * What an address is, as far as reaching it from the relay goes. Everything but `public` is
 * refused unless the allowing rule allows that address; `metadata` (cloud instance metadata,
 * where machine credentials live) only when the rule names the exact address.
 */
export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'metadata'

export interface AddressClass {
  kind: AddressKind
  /** For IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo…): that address. */
  embedded?: string
}

type Table = ReadonlyArray<readonly [Cidr, AddressKind]>

function table(entries: ReadonlyArray<readonly [string, AddressKind]>): Table {
  return entries.map(([text, kind]) => {
    const range = parseCidr(text)
    if (range === null) throw new Error(`bad built-in range ${text}`)
    return [range, kind] as const
  })
}

// First match wins: the metadata addresses sit inside link-local and CGNAT, so they come first.
const IPV4 = table([
  ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
  ['169.254.170.2/32', 'metadata'], // AWS ECS task credentials
  ['100.100.100.200/32', 'metadata'], // Alibaba Cloud
  // Azure's WireServer: a public address, but inside Azure it hands each VM its agent
  // configuration and extension settings, so it is as sensitive as instance metadata.
  ['168.63.129.16/32', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['100.64.0.0/10', 'cgnat'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // includes 255.255.255.255
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'reserved'], // documentation
  ['198.18.0.0/15', 'reserved'], // benchmarking
  ['198.51.100.0/24', 'reserved'], // documentation
  ['203.0.113.0/24', 'reserved'], // documentation
])

const IPV6 = table([
  ['fd00:ec2::254/128', 'metadata'], // AWS IMDS over IPv6
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local, still routed by some stacks
  ['fc00::/7', 'private'], // unique local
  ['ff00::/8', 'multicast'],
  ['100::/64', 'reserved'], // discard-only
  ['2001:db8::/32', 'reserved'], // documentation
])

/** IPv6 forms that carry an IPv4 address in their last 32 bits. */
const LOW_32 = ['::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96', '::/96']
  .map(parseCidr)
  .filter((range): range is Cidr => range !== null)

const NAT64_LOCAL = parseCidr('64:ff9b:1::/48') as Cidr
const SIX_TO_FOUR = parseCidr('2002::/16') as Cidr
const TEREDO = parseCidr('2001::/32') as Cidr

/**
 * Classifies an address. IPv6 forms that embed an IPv4 address (mapped `::ffff:a.b.c.d`,
 * compatible `::a.b.c.d`, SIIT, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`,
 * Teredo `2001::/32`) are classified by that IPv4 address: a translator on the path would
 * deliver the packets there. `net.BlockList` misses several of these.
 *
 * @example
 * classifyAddress(parseIp('64:ff9b::a9fe:a9fe')!)
 * // → { kind: 'metadata', embedded: '169.254.169.254' }
 */
export function classifyAddress(ip: IpAddress): AddressClass {
  if (ip.family === 4) return { kind: lookup(IPV4, ip) }

  const direct = lookup(IPV6, ip)
  if (direct !== 'public') return { kind: direct }
  const embedded = embeddedIPv4(ip)
  if (embedded.length === 0) return { kind: 'public' }
  return worstOf(embedded)
}

/** The IPv4 addresses an IPv6 address carries, if it is one of the embedding forms. */
export function embeddedIPv4(ip: IpAddress): bigint[] {
  if (ip.family !== 6) return []
  if (LOW_32.some((range) => cidrContains(range, ip))) return [ip.value & 0xffffffffn]
  if (cidrContains(NAT64_LOCAL, ip)) return [ip.value & 0xffffffffn, nat64Slash48(ip.value)]
  if (cidrContains(SIX_TO_FOUR, ip)) return [(ip.value >> 80n) & 0xffffffffn]
  if (!cidrContains(TEREDO, ip)) return []

  // Teredo: the server's address in bits 32-63, the client's obfuscated (inverted) in the last 32.
  const server = (ip.value >> 64n) & 0xffffffffn
  const client = (ip.value & 0xffffffffn) ^ 0xffffffffn
  return [client, server]
}

// The local-use NAT64 prefix is a /48: translators may use it whole (RFC 6052 puts the IPv4
// address in bits 48-63 and 72-87) or carve /96s from it (the last 32 bits); both are checked.
function nat64Slash48(value: bigint): bigint {
  const high = (value >> 64n) & 0xffffn
  const low = (value >> 40n) & 0xffffn
  return (high << 16n) | low
}

function lookup(entries: Table, ip: IpAddress): AddressKind {
  for (const [range, kind] of entries) {
    if (cidrContains(range, ip)) return kind
  }
  return 'public'
}

/** How much worse than public a kind is, to pick between two embedded addresses. */
function severity(kind: AddressKind): number {
  if (kind === 'public') return 0
  if (kind === 'unspecified') return 1
  return kind === 'metadata' ? 3 : 2
}

// Teredo and local-use NAT64 carry two candidates; the form is as dangerous as the worse one.
function worstOf(values: readonly bigint[]): AddressClass {
  let result: AddressClass | null = null
  for (const value of values) {
    const kind = lookup(IPV4, { family: 4, value })
    if (result === null || severity(kind) > severity(result.kind)) {
      result = { kind, embedded: formatIPv4(value) }
    }
  }
  return result ?? { kind: 'public' }
}
