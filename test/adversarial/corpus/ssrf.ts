import { refused, roam, type CorpusCase, type Outcome } from './case.js'

/**
 * Destination addresses. The roaming agent may GET any host on a few ports, public addresses
 * only: whatever spelling or DNS answer it uses, loopback, private, link-local, metadata and
 * IPv4-in-IPv6 addresses must be refused. The echo upstream (127.0.0.1:{P}) and the sentinels
 * (127.0.0.2:{P}, [::1]:{P}, 127.0.0.1:{S}) are where a slip would land.
 */
const C = 'ssrf' as const

const FORBIDDEN = refused('TOLLGATE_DESTINATION_FORBIDDEN')
// What cannot be a host at all: percent-encoding, zone ids, unbracketed IPv6.
const AMBIGUOUS = refused('TOLLGATE_AMBIGUOUS_TARGET')

function literal(id: string, host: string, expect: Outcome, port = '{P}'): CorpusCase {
  return {
    id: `${C}/${id}`,
    category: C,
    rule: `${host} is recognised as the address it is, and refused`,
    send: roam(`http://${host}:${port}/x`),
    expect: [expect],
  }
}

function named(id: string, name: string, why: string): CorpusCase {
  return {
    id: `${C}/dns-${id}`,
    category: C,
    rule: `a name that resolves to ${why} is refused after one lookup`,
    send: roam(`http://${name}:{P}/x`),
    expect: [FORBIDDEN],
  }
}

/** Spellings of 127.0.0.1 that resolvers, browsers or inet_aton accept. */
const LOOPBACK_SPELLINGS: Array<[string, string, Outcome]> = [
  ['dotted', '127.0.0.1', FORBIDDEN],
  ['dotted-trailing-dot', '127.0.0.1.', FORBIDDEN],
  ['decimal', '2130706433', FORBIDDEN],
  ['hex', '0x7f000001', FORBIDDEN],
  ['hex-upper', '0X7F000001', FORBIDDEN],
  ['octal', '017700000001', FORBIDDEN],
  ['octal-dotted', '0177.0.0.1', FORBIDDEN],
  ['octal-padded', '0177.0000.0000.0001', FORBIDDEN],
  ['hex-dotted', '0x7f.0.0.1', FORBIDDEN],
  ['hex-every-part', '0x7f.0x0.0x0.0x1', FORBIDDEN],
  ['short-two-parts', '127.1', FORBIDDEN],
  ['short-three-parts', '127.0.1', FORBIDDEN],
  ['short-hex', '0x7f.1', FORBIDDEN],
  ['short-octal', '0177.1', FORBIDDEN],
  ['leading-zeros', '127.000.000.001', FORBIDDEN],
  ['leading-zero-last', '127.0.0.01', FORBIDDEN],
  ['mixed-bases', '0x7f.0.0.0001', FORBIDDEN],
  ['decimal-trailing-dot', '2130706433.', FORBIDDEN],
  ['overflowing-octet', '127.0.0.257', refused('TOLLGATE_BAD_HOST')],
  ['five-parts', '127.0.0.0.1', refused('TOLLGATE_BAD_HOST')],
  ['percent-encoded', '%31%32%37.0.0.1', AMBIGUOUS],
  ['zero', '0', FORBIDDEN],
  ['zero-dotted', '0.0.0.0', FORBIDDEN],
  ['zero-short', '0.0', FORBIDDEN],
  ['zero-hex', '0x0', FORBIDDEN],
  ['other-loopback', '127.0.0.2', FORBIDDEN],
  ['loopback-top', '127.255.255.254', FORBIDDEN],
  ['ip-with-name-suffix', '127.0.0.1.nip.test', FORBIDDEN],
]

/** IPv6 literals that are, or carry, a forbidden address. */
const V6: Array<[string, string, Outcome]> = [
  ['loopback', '[::1]', FORBIDDEN],
  ['loopback-long', '[0:0:0:0:0:0:0:1]', FORBIDDEN],
  ['loopback-padded', '[0000:0000:0000:0000:0000:0000:0000:0001]', FORBIDDEN],
  ['loopback-zero-runs', '[0::0:1]', FORBIDDEN],
  ['unspecified', '[::]', FORBIDDEN],
  ['mapped-dotted', '[::ffff:127.0.0.1]', FORBIDDEN],
  ['mapped-hex', '[::ffff:7f00:1]', FORBIDDEN],
  ['mapped-upper', '[::FFFF:7F00:1]', FORBIDDEN],
  ['mapped-long', '[0:0:0:0:0:ffff:127.0.0.1]', FORBIDDEN],
  ['siit', '[::ffff:0:127.0.0.1]', FORBIDDEN],
  ['compatible', '[::127.0.0.1]', FORBIDDEN],
  ['compatible-hex', '[::7f00:1]', FORBIDDEN],
  ['nat64', '[64:ff9b::127.0.0.1]', FORBIDDEN],
  ['nat64-hex', '[64:ff9b::7f00:1]', FORBIDDEN],
  ['nat64-local', '[64:ff9b:1::7f00:1]', FORBIDDEN],
  ['6to4', '[2002:7f00:1::]', FORBIDDEN],
  ['6to4-host', '[2002:7f00:1::1]', FORBIDDEN],
  ['teredo-server', '[2001:0:7f00:1::]', FORBIDDEN],
  ['teredo-client', '[2001::80ff:fffe]', FORBIDDEN],
  ['link-local', '[fe80::1]', FORBIDDEN],
  ['unique-local', '[fc00::1]', FORBIDDEN],
  ['unique-local-fd', '[fd12:3456::1]', FORBIDDEN],
  ['site-local', '[fec0::1]', FORBIDDEN],
  ['multicast', '[ff02::1]', FORBIDDEN],
  ['discard', '[100::1]', FORBIDDEN],
  ['documentation', '[2001:db8::1]', FORBIDDEN],
  ['zone-id', '[fe80::1%25lo]', AMBIGUOUS],
  ['zone-id-loopback', '[::1%251]', AMBIGUOUS],
  ['unbracketed', '::1', AMBIGUOUS],
  ['unclosed', '[::1', AMBIGUOUS],
  ['junk-after', '[::1]x', AMBIGUOUS],
  ['ipv4-in-brackets', '[127.0.0.1]', refused('TOLLGATE_BAD_HOST')],
]

/** Cloud metadata endpoints, as literals. */
const METADATA: Array<[string, string, Outcome]> = [
  ['aws', '169.254.169.254', FORBIDDEN],
  ['aws-trailing-dot', '169.254.169.254.', FORBIDDEN],
  ['aws-decimal', '2852039166', FORBIDDEN],
  ['aws-hex', '0xa9fea9fe', FORBIDDEN],
  ['aws-octal', '0251.0376.0251.0376', FORBIDDEN],
  ['aws-short', '169.254.43518', FORBIDDEN],
  ['aws-mapped', '[::ffff:169.254.169.254]', FORBIDDEN],
  ['aws-mapped-hex', '[::ffff:a9fe:a9fe]', FORBIDDEN],
  ['aws-nat64', '[64:ff9b::a9fe:a9fe]', FORBIDDEN],
  ['aws-6to4', '[2002:a9fe:a9fe::]', FORBIDDEN],
  ['aws-v6', '[fd00:ec2::254]', FORBIDDEN],
  ['aws-ecs', '169.254.170.2', FORBIDDEN],
  ['alibaba', '100.100.100.200', FORBIDDEN],
  ['azure-wireserver', '168.63.129.16', FORBIDDEN],
  ['oracle', '192.0.0.192', FORBIDDEN],
]

/** Private and special-purpose IPv4 ranges. */
const PRIVATE: Array<[string, string]> = [
  ['ten', '10.0.0.1'],
  ['ten-top', '10.255.255.255'],
  ['172-16', '172.16.0.1'],
  ['172-31', '172.31.255.254'],
  ['192-168', '192.168.1.1'],
  ['cgnat', '100.64.0.1'],
  ['cgnat-top', '100.127.255.254'],
  ['link-local', '169.254.1.1'],
  ['this-network', '0.1.2.3'],
  ['benchmark', '198.18.0.1'],
  ['multicast', '224.0.0.1'],
  ['reserved', '240.0.0.1'],
  ['broadcast', '255.255.255.255'],
  ['ietf-protocol', '192.0.0.1'],
]

export const SSRF: CorpusCase[] = [
  ...LOOPBACK_SPELLINGS.map(([id, host, outcome]) => literal(`loopback-${id}`, host, outcome)),
  literal('loopback-other-port', '127.0.0.1', FORBIDDEN, '{S}'),
  literal('loopback-default-port', '127.0.0.1', FORBIDDEN, '80'),
  ...V6.map(([id, host, outcome]) => literal(`v6-${id}`, host, outcome)),
  ...METADATA.map(([id, host, outcome]) => literal(`metadata-${id}`, host, outcome, '80')),
  ...PRIVATE.map(([id, host]) => literal(`private-${id}`, host, FORBIDDEN, '80')),
  named('localhost', 'localhost', 'loopback (localhost)'),
  named('localhost-upper', 'LOCALHOST', 'loopback (LOCALHOST)'),
  named('localhost-trailing-dot', 'localhost.', 'loopback (localhost.)'),
  named('sub-localhost', 'sub.localhost', 'loopback (a subdomain of localhost)'),
  named('sentinel', 'sentinel.test', 'another loopback address, where a sentinel listens'),
  named('sentinel-v6', 'sentinel6.test', 'IPv6 loopback, where a sentinel listens'),
  named('allowed-name-other-agent', 'echo.test', 'loopback under a rule with no address ranges'),
  named('private', 'private.test', 'a private address'),
  named('cgnat', 'cgnat.test', 'a carrier-grade NAT address'),
  named('link-local', 'linklocal.test', 'a link-local address'),
  named('gcp-metadata', 'metadata.google.internal', 'the GCP metadata address'),
  named('aws-v6-metadata', 'aws-v6-metadata.test', 'the AWS IPv6 metadata address'),
  named('ecs-metadata', 'ecs-metadata.test', 'the ECS task metadata address'),
  named('alibaba-metadata', 'alibaba-metadata.test', 'the Alibaba metadata address'),
  named('azure-wireserver', 'azure-wireserver.test', 'the Azure wire server'),
  named('zero', 'zero.test', '0.0.0.0, which reaches the local host'),
  named('unspecified-v6', 'unspecified6.test', '::, which reaches the local host'),
  named('mapped', 'mapped.test', 'an IPv4-mapped loopback AAAA record'),
  named('nat64', 'nat64.test', 'a NAT64 loopback AAAA record'),
  named('6to4', 'sixtofour.test', 'a 6to4 loopback AAAA record'),
  named('ula', 'ula.test', 'a unique-local IPv6 address'),
  named('multicast', 'multicast.test', 'a multicast address'),
  named('mixed-public-first', 'mixed.test', 'a public and a loopback address (public first)'),
  named('mixed-loopback-first', 'mixed-reverse.test', 'a loopback and a public address'),
  {
    id: `${C}/host-header-loopback`,
    category: C,
    rule: 'a loopback Host header cannot steer a request whose target is another host',
    send: `GET http://sentinel.test:{P}/x HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nProxy-Authorization: {roamer}\r\n\r\n`,
    expect: [AMBIGUOUS],
  },
  {
    id: `${C}/narrow-agent-loopback`,
    category: C,
    rule: 'the narrow agent cannot name the echo by its address instead of its name',
    send: `GET http://127.0.0.1:{P}/allowed/x HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nProxy-Authorization: {auth}\r\n\r\n`,
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
  {
    id: `${C}/narrow-agent-localhost`,
    category: C,
    rule: 'the narrow agent cannot name the echo as localhost',
    send: `GET http://localhost:{P}/allowed/x HTTP/1.1\r\nHost: localhost:{P}\r\nProxy-Authorization: {auth}\r\n\r\n`,
    expect: [refused('TOLLGATE_POLICY_NO_MATCH')],
  },
]
