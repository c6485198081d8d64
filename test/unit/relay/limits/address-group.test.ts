import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { addressGroup } from '../../../../src/relay/limits/address-group.js'

void describe('addressGroup', () => {
  void test('IPv4 addresses count alone', () => {
    assert.notEqual(addressGroup('10.0.0.1'), addressGroup('10.0.0.2'))
    assert.equal(addressGroup('10.0.0.1'), addressGroup('10.0.0.1'))
  })

  void test('an IPv6 client counts by its /64, whatever spelling', () => {
    assert.equal(addressGroup('2001:db8:1:2::1'), addressGroup('2001:db8:1:2:ffff::9'))
    assert.equal(addressGroup('2001:db8:1:2::1'), addressGroup('2001:0db8:0001:0002:0:0:0:1'))
    assert.notEqual(addressGroup('2001:db8:1:2::1'), addressGroup('2001:db8:1:3::1'))
  })

  void test('IPv4-mapped IPv6 counts as the IPv4 address it carries', () => {
    assert.equal(addressGroup('::ffff:10.0.0.1'), addressGroup('10.0.0.1'))
    assert.notEqual(addressGroup('::ffff:10.0.0.1'), addressGroup('::ffff:10.0.0.2'))
  })
})
