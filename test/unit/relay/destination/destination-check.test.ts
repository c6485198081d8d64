import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AddressAllowance } from '../../../../src/relay/destination/allowance.js'
import {
  chooseAddress,
  refusedDestination,
} from '../../../../src/relay/destination/destination-check.js'
import { RelaySelf } from '../../../../src/relay/destination/relay-self.js'

const noSelf = new RelaySelf(() => [])

function refusal(run: () => unknown): { address: string; kind: string } {
  try {
    run()
  } catch (err) {
    const refused = refusedDestination(err)
    assert.ok(refused, `a destination refusal, got ${String(err)}`)
    return refused
  }
  assert.fail('expected a refusal')
}

const rule = (hosts: string[], addresses: string[] = []) =>
  AddressAllowance.fromRule(hosts, addresses)

void describe('chooseAddress', () => {
  void test('public answers pass without an allowance; the first is dialled', () => {
    assert.equal(chooseAddress(['8.8.8.8', '1.1.1.1'], null, false, noSelf), '8.8.8.8')
    assert.equal(chooseAddress(['2606:4700::1'], null, false, noSelf), '2606:4700::1')
  })

  void test('one forbidden answer refuses them all, wherever it is in the list', () => {
    for (const answer of [
      ['8.8.8.8', '127.0.0.1'],
      ['127.0.0.1', '8.8.8.8'],
    ]) {
      assert.deepEqual(
        refusal(() => chooseAddress(answer, null, false, noSelf)),
        { address: '127.0.0.1', kind: 'loopback' },
      )
    }
  })

  void test('an empty answer is a resolution failure, not a refusal', () => {
    assert.throws(() => chooseAddress([], null, false, noSelf), { code: 'ENOTFOUND' })
  })

  void test('a zone-scoped answer is refused as unparsable', () => {
    assert.equal(
      refusal(() => chooseAddress(['fe80::1%eth0'], null, false, noSelf)).kind,
      'unparsable',
    )
  })

  void test("the relay's own public address is refused like loopback", () => {
    const self = new RelaySelf(() => ['203.0.114.9', '127.0.0.1'])
    assert.deepEqual(
      refusal(() => chooseAddress(['203.0.114.9'], null, false, self)),
      {
        address: '203.0.114.9',
        kind: 'relay-self',
      },
    )
    const allowed = rule(['relay.internal'], ['203.0.114.9/32'])
    assert.equal(chooseAddress(['203.0.114.9'], allowed, false, self), '203.0.114.9')
  })
})

void describe('AddressAllowance', () => {
  void test('a rule without literals or addresses has none', () => {
    assert.equal(rule(['api.example.com', '*.example.com']), null)
  })

  void test('an IP-literal host allows exactly itself, and only when requested by that literal', () => {
    const literal = rule(['127.0.0.1', 'api.example.com'])
    assert.equal(chooseAddress(['127.0.0.1'], literal, true, noSelf), '127.0.0.1')
    // The same rule's host name resolving to the literal is not allowed by it.
    assert.equal(
      refusal(() => chooseAddress(['127.0.0.1'], literal, false, noSelf)).kind,
      'loopback',
    )
    // Another spelling of the address (mapped) is another literal, refused.
    assert.equal(
      refusal(() => chooseAddress(['::ffff:127.0.0.1'], literal, true, noSelf)).kind,
      'loopback',
    )
    assert.equal(
      refusal(() => chooseAddress(['127.0.0.2'], literal, true, noSelf)).kind,
      'loopback',
    )
  })

  void test('`addresses` ranges allow names resolving inside them, and their embedded forms', () => {
    const ranges = rule(['internal.example'], ['10.0.0.0/8', 'fd00::/8'])
    assert.equal(chooseAddress(['10.1.2.3', 'fd00::5'], ranges, false, noSelf), '10.1.2.3')
    assert.equal(chooseAddress(['::ffff:10.0.0.1'], ranges, false, noSelf), '::ffff:10.0.0.1')
    assert.equal(
      refusal(() => chooseAddress(['11.0.0.1', '172.16.0.1'], ranges, false, noSelf)).kind,
      'private',
    )
  })

  void test('metadata needs the exact address, a covering range is not enough', () => {
    const broad = rule(['meta.internal'], ['169.254.0.0/16', '100.64.0.0/10', 'fd00::/8'])
    for (const address of [
      '169.254.169.254',
      '169.254.170.2',
      '100.100.100.200',
      'fd00:ec2::254',
    ]) {
      assert.equal(refusal(() => chooseAddress([address], broad, false, noSelf)).kind, 'metadata')
    }
    assert.equal(
      refusal(() => chooseAddress(['64:ff9b::a9fe:a9fe'], broad, false, noSelf)).kind,
      'metadata',
    )

    const exact = rule(['meta.internal'], ['169.254.169.254/32'])
    assert.equal(chooseAddress(['169.254.169.254'], exact, false, noSelf), '169.254.169.254')
    const literal = rule(['169.254.169.254'])
    assert.equal(chooseAddress(['169.254.169.254'], literal, true, noSelf), '169.254.169.254')
  })

  void test('equal allowances share a key, different ones do not', () => {
    const a = rule(['x.example'], ['10.0.0.0/8', '127.0.0.1'])
    const b = rule(['y.example'], ['127.0.0.1/32', '10.0.0.0/8'])
    const c = rule(['x.example'], ['10.0.0.0/16'])
    assert.equal(a?.key, b?.key)
    assert.notEqual(a?.key, c?.key)
    assert.notEqual(rule(['127.0.0.1'])?.key, rule(['x.example'], ['127.0.0.1/32'])?.key)
  })
})
