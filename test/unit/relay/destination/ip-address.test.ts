import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  addressKey,
  cidrContains,
  formatIPv4,
  parseCidr,
  parseIp,
} from '../../../../src/relay/destination/ip-address.js'

function ip(text: string) {
  const parsed = parseIp(text)
  assert.ok(parsed, text)
  return parsed
}

void describe('IP addresses as numbers', () => {
  void test('every IPv6 spelling of one address has one key', () => {
    const spellings = ['::ffff:127.0.0.1', '::FFFF:7F00:1', '0:0:0:0:0:ffff:7f00:0001']
    const keys = new Set(spellings.map((s) => addressKey(ip(s))))
    assert.equal(keys.size, 1)
    assert.notEqual(addressKey(ip('127.0.0.1')), addressKey(ip('::ffff:127.0.0.1')))
  })

  void test('parses the :: forms and a dotted tail', () => {
    assert.equal(ip('::').value, 0n)
    assert.equal(ip('::1').value, 1n)
    assert.equal(ip('1::').value, 1n << 112n)
    assert.equal(ip('::1.2.3.4').value, 0x01020304n)
    assert.equal(ip('1:2:3:4:5:6:7:8').value, 0x00010002000300040005000600070008n)
  })

  void test('refuses what is not an IP literal', () => {
    for (const text of ['', 'localhost', '127.1', '2130706433', '0x7f.0.0.1', 'fe80::1%eth0']) {
      assert.equal(parseIp(text), null, text)
    }
  })

  void test('CIDR ranges: edges, bare addresses, families never mix', () => {
    const ten = parseCidr('10.0.0.0/8')
    assert.ok(ten)
    assert.ok(cidrContains(ten, ip('10.255.255.255')))
    assert.ok(!cidrContains(ten, ip('11.0.0.0')))
    assert.ok(!cidrContains(ten, ip('::ffff:10.0.0.1')))
    assert.deepEqual(parseCidr('127.0.0.1'), { family: 4, base: 0x7f000001n, bits: 32 })
    assert.deepEqual(parseCidr('fd00::/8'), { family: 6, base: 0xfdn << 120n, bits: 8 })
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'example.com/8']) {
      assert.equal(parseCidr(bad), null, bad)
    }
  })

  void test('formats IPv4 from its number', () => {
    assert.equal(formatIPv4(0xa9fea9fen), '169.254.169.254')
    assert.equal(formatIPv4(0n), '0.0.0.0')
  })
})
