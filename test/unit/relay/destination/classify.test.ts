import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { classifyAddress, type AddressClass } from '../../../../src/relay/destination/classify.js'
import { parseIp } from '../../../../src/relay/destination/ip-address.js'

function classify(text: string): AddressClass {
  const ip = parseIp(text)
  assert.ok(ip, `${text} parses`)
  return classifyAddress(ip)
}

/** [address, kind, embedded IPv4 or undefined]: each range's first and last address and both neighbours. */
type Row = readonly [string, AddressClass['kind'], string?]

function check(rows: readonly Row[]): void {
  for (const [address, kind, embedded] of rows) {
    const expected: AddressClass = embedded === undefined ? { kind } : { kind, embedded }
    assert.deepEqual(classify(address), expected, address)
  }
}

void describe('classifyAddress: IPv4', () => {
  void test('this network, private, loopback, link-local, CGNAT edges', () => {
    check([
      ['0.0.0.0', 'unspecified'],
      ['0.255.255.255', 'unspecified'],
      ['1.0.0.0', 'public'],
      ['9.255.255.255', 'public'],
      ['10.0.0.0', 'private'],
      ['10.255.255.255', 'private'],
      ['11.0.0.0', 'public'],
      ['172.15.255.255', 'public'],
      ['172.16.0.0', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.0', 'public'],
      ['192.167.255.255', 'public'],
      ['192.168.0.0', 'private'],
      ['192.168.255.255', 'private'],
      ['192.169.0.0', 'public'],
      ['126.255.255.255', 'public'],
      ['127.0.0.0', 'loopback'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.255', 'loopback'],
      ['128.0.0.0', 'public'],
      ['169.253.255.255', 'public'],
      ['169.254.0.0', 'link-local'],
      ['169.254.255.255', 'link-local'],
      ['169.255.0.0', 'public'],
      ['100.63.255.255', 'public'],
      ['100.64.0.0', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['100.128.0.0', 'public'],
    ])
  })

  void test('multicast, reserved, broadcast, special-purpose blocks', () => {
    check([
      ['223.255.255.255', 'public'],
      ['224.0.0.0', 'multicast'],
      ['239.255.255.255', 'multicast'],
      ['240.0.0.0', 'reserved'],
      ['255.255.255.254', 'reserved'],
      ['255.255.255.255', 'reserved'],
      ['191.255.255.255', 'public'],
      ['192.0.0.0', 'reserved'],
      ['192.0.0.255', 'reserved'],
      ['192.0.1.0', 'public'],
      ['192.0.2.0', 'reserved'],
      ['198.17.255.255', 'public'],
      ['198.18.0.0', 'reserved'],
      ['198.19.255.255', 'reserved'],
      ['198.20.0.0', 'public'],
      ['198.51.100.7', 'reserved'],
      ['203.0.113.7', 'reserved'],
      ['8.8.8.8', 'public'],
    ])
  })

  void test('cloud metadata addresses, not their neighbours', () => {
    check([
      ['169.254.169.254', 'metadata'],
      ['169.254.169.253', 'link-local'],
      ['169.254.169.255', 'link-local'],
      ['169.254.170.2', 'metadata'],
      ['169.254.170.3', 'link-local'],
      ['100.100.100.200', 'metadata'],
      ['100.100.100.201', 'cgnat'],
      ['168.63.129.16', 'metadata'],
      ['168.63.129.15', 'public'],
      ['168.63.129.17', 'public'],
      ['::ffff:168.63.129.16', 'metadata', '168.63.129.16'],
    ])
  })
})

void describe('classifyAddress: IPv6', () => {
  void test('unspecified, loopback, link-local, site-local, ULA, multicast edges', () => {
    check([
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'public'],
      ['fe80::', 'link-local'],
      ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
      ['fec0::', 'private'],
      ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
      ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'public'],
      ['fc00::', 'private'],
      ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
      ['fe00::', 'public'],
      ['ff00::', 'multicast'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['100::1', 'reserved'],
      ['2606:4700:4700::1111', 'public'],
    ])
  })

  void test('AWS IMDS over IPv6 is metadata, its neighbours unique-local', () => {
    check([
      ['fd00:ec2::254', 'metadata'],
      ['fd00:ec2::253', 'private'],
      ['FD00:EC2:0:0:0:0:0:254', 'metadata'],
    ])
  })

  void test('IPv4-mapped and SIIT forms are classified by their IPv4 address', () => {
    check([
      ['::ffff:127.0.0.1', 'loopback', '127.0.0.1'],
      ['::ffff:7f00:1', 'loopback', '127.0.0.1'],
      ['::ffff:169.254.169.254', 'metadata', '169.254.169.254'],
      ['::ffff:10.0.0.1', 'private', '10.0.0.1'],
      ['::ffff:8.8.8.8', 'public', '8.8.8.8'],
      ['::ffff:0.0.0.0', 'unspecified', '0.0.0.0'],
      ['::ffff:0:127.0.0.1', 'loopback', '127.0.0.1'],
    ])
  })

  void test('IPv4-compatible forms (::a.b.c.d) are classified by their IPv4 address', () => {
    check([
      ['::127.0.0.1', 'loopback', '127.0.0.1'],
      ['::7f00:1', 'loopback', '127.0.0.1'],
      ['::169.254.169.254', 'metadata', '169.254.169.254'],
      ['::0.0.0.2', 'unspecified', '0.0.0.2'],
      ['::8.8.8.8', 'public', '8.8.8.8'],
    ])
  })

  void test('NAT64 well-known and local-use prefixes are classified by their IPv4 address', () => {
    check([
      ['64:ff9b::127.0.0.1', 'loopback', '127.0.0.1'],
      ['64:ff9b::a9fe:a9fe', 'metadata', '169.254.169.254'],
      ['64:ff9b::c0a8:101', 'private', '192.168.1.1'],
      ['64:ff9b::808:808', 'public', '8.8.8.8'],
      ['64:ff9b:1::a00:1', 'private', '10.0.0.1'],
      // RFC 6052 /48 layout: IPv4 split around the u octet (bits 48-63 and 72-87).
      ['64:ff9b:1:7f00:0:100::', 'loopback', '127.0.0.1'],
      // Either layout may be meant; the one reading 0.0.0.0 is not public, so this is refused.
      ['64:ff9b:1:808:8:800::', 'unspecified', '0.0.0.0'],
      ['64:ff9b:2::a00:1', 'public'],
    ])
  })

  void test('6to4 carries its IPv4 address in bits 16-47', () => {
    check([
      ['2002:7f00:1::', 'loopback', '127.0.0.1'],
      ['2002:a9fe:a9fe::1', 'metadata', '169.254.169.254'],
      ['2002:a00:1:1::1', 'private', '10.0.0.1'],
      ['2002:808:808::1', 'public', '8.8.8.8'],
    ])
  })

  void test('Teredo: the inverted client address and the server address are both checked', () => {
    check([
      // client 127.0.0.1 (inverted: 80ff:fffe), public server 8.8.8.8
      ['2001:0:808:808:0:0:80ff:fffe', 'loopback', '127.0.0.1'],
      // public client 8.8.8.8 (inverted: f7f7:f7f7), server 10.0.0.1
      ['2001:0:a00:1:0:0:f7f7:f7f7', 'private', '10.0.0.1'],
      ['2001:0:808:808:0:0:f7f7:f7f7', 'public', '8.8.8.8'],
      ['2001:0:808:808:0:0:5601:5601', 'metadata', '169.254.169.254'],
      ['2001:1::1', 'public'],
    ])
  })
})
