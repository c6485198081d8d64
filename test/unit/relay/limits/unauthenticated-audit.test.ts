import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import type { UnauthenticatedAuditConfig } from '../../../../src/config/types.js'
import type { ErrorCode } from '../../../../src/errors/codes.js'
import { addressGroup } from '../../../../src/relay/limits/address-group.js'
import { describeAddressGroup } from '../../../../src/relay/limits/refusal-summary.js'
import {
  TOTAL_SHARES,
  UnauthenticatedAudit,
  type Refusal,
  type RefusalSummary,
} from '../../../../src/relay/limits/unauthenticated-audit.js'
import { waitFor } from '../../../helpers/tollgate-harness.js'

// An hour: no interval ends on its own in these tests unless one says so.
const LONG = { events: 2, intervalMs: 3_600_000 }

/** A bound on a hand-moved clock, collecting what it reports. */
function bound(settings: UnauthenticatedAuditConfig | null = LONG, maxGroups = 100) {
  const summaries: RefusalSummary[] = []
  const suppressed: ErrorCode[] = []
  let clock = Date.parse('2025-03-01T10:00:00.000Z')
  const audit = new UnauthenticatedAudit(() => settings, {
    report: (summary) => summaries.push(summary),
    suppressed: (code) => suppressed.push(code),
    now: () => clock,
    maxGroups,
  })
  let seq = 0
  const refuse = (client: string | undefined, code: ErrorCode = 'TOLLGATE_AUTH_REQUIRED') => {
    const refusal: Refusal = { requestId: `req_${++seq}`, code, agent: null, client }
    clock += 1000
    return audit.admit(refusal)
  }
  return { audit, summaries, suppressed, refuse }
}

function times<T>(n: number, run: () => T): T[] {
  return Array.from({ length: n }, run)
}

void describe('UnauthenticatedAudit', () => {
  void test('per source and code the first refusals are recorded, the rest summarised', () => {
    const { audit, summaries, suppressed, refuse } = bound()
    assert.deepEqual(
      times(5, () => refuse('10.0.0.1')),
      [true, true, false, false, false],
    )
    // Another code from the same source, and another source, each have their own share.
    assert.equal(refuse('10.0.0.1', 'TOLLGATE_MALFORMED_REQUEST'), true)
    assert.equal(refuse('10.0.0.2'), true)
    assert.equal(summaries.length, 0, 'nothing is written before the interval ends')

    audit.flush()
    assert.equal(summaries.length, 1)
    assert.deepEqual(summaries[0], {
      addressGroup: addressGroup('10.0.0.1'),
      overflow: false,
      count: 3,
      codes: { TOLLGATE_AUTH_REQUIRED: 3 },
      recorded: 2,
      firstTime: new Date('2025-03-01T10:00:03.000Z'),
      lastTime: new Date('2025-03-01T10:00:05.000Z'),
      firstRequestId: 'req_3',
      lastRequestId: 'req_5',
    })
    assert.deepEqual(
      suppressed,
      times(3, () => 'TOLLGATE_AUTH_REQUIRED'),
    )
  })

  void test('a new interval starts with a fresh share', () => {
    const { audit, summaries, refuse } = bound()
    times(3, () => refuse('10.0.0.1'))
    audit.flush()
    assert.equal(audit.size, 0)
    assert.deepEqual(
      times(3, () => refuse('10.0.0.1')),
      [true, true, false],
    )
    audit.flush()
    assert.deepEqual(
      summaries.map((s) => s.count),
      [1, 1],
    )
  })

  void test('an IPv6 source counts by its /64', () => {
    const { audit, summaries, refuse } = bound()
    refuse('2001:db8:1:2::1')
    refuse('2001:db8:1:2::2')
    assert.equal(refuse('2001:db8:1:2:ffff::9'), false)
    audit.flush()
    assert.equal(summaries[0]?.addressGroup, addressGroup('2001:db8:1:2::1'))
    assert.equal(describeAddressGroup(summaries[0]?.addressGroup ?? ''), '2001:db8:1:2::/64')
  })

  void test('refusals that name an agent, and faults of the relay, are never left out', () => {
    const { audit, summaries } = bound({ events: 1, intervalMs: 3_600_000 })
    const named = (i: number): Refusal => ({
      requestId: `req_${i}`,
      code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
      agent: 'bot',
      client: '10.0.0.1',
    })
    const fault = (i: number): Refusal => ({
      requestId: `req_f${i}`,
      code: 'TOLLGATE_INTERNAL',
      agent: null,
      client: '10.0.0.1',
    })
    for (let i = 0; i < 5; i++) {
      assert.equal(audit.admit(named(i)), true)
      assert.equal(audit.admit(fault(i)), true)
    }
    audit.flush()
    assert.deepEqual(summaries, [])
  })

  void test('past the cap on groups, new sources share one overflow group', () => {
    const { audit, summaries, refuse } = bound({ events: 1, intervalMs: 3_600_000 }, 3)
    for (const host of [1, 2, 3]) refuse(`10.0.0.${host}`)
    assert.equal(audit.size, 3)

    // Two more sources and another code: one group between them, with one share.
    assert.equal(refuse('10.0.0.4'), true)
    assert.equal(refuse('10.0.0.5'), false)
    assert.equal(refuse('10.0.0.6', 'TOLLGATE_MALFORMED_REQUEST'), false)
    assert.equal(refuse('10.0.0.7'), false)
    assert.equal(audit.size, 4, 'three groups and the overflow, however many sources')
    // Sources tracked before the cap keep their own group.
    assert.equal(refuse('10.0.0.1'), false)

    audit.flush()
    const overflow = summaries.find((s) => s.overflow)
    assert.deepEqual(overflow?.codes, { TOLLGATE_AUTH_REQUIRED: 2, TOLLGATE_MALFORMED_REQUEST: 1 })
    assert.equal(overflow?.count, 3)
    assert.equal(overflow?.recorded, 1)
    assert.equal(overflow?.addressGroup, null)
    assert.deepEqual(
      summaries.filter((s) => !s.overflow).map((s) => s.addressGroup),
      [addressGroup('10.0.0.1')],
    )
  })

  void test('all sources together record at most TOTAL_SHARES shares an interval', () => {
    const { audit, summaries, refuse } = bound()
    const sources = Array.from({ length: TOTAL_SHARES + 5 }, (_, i) => `127.0.${i}.1`)
    const admitted = sources.flatMap((source) => [refuse(source), refuse(source)])
    assert.equal(admitted.filter(Boolean).length, TOTAL_SHARES * LONG.events)
    assert.deepEqual(
      admitted.slice(-10),
      times(10, () => false),
      'the late sources are summarised',
    )

    audit.flush()
    assert.equal(summaries.length, 5)
    assert.ok(summaries.every((s) => s.count === 2 && s.recorded === 0))
    assert.equal(refuse('127.0.0.1'), true, 'a new interval has a new total')
  })

  void test('a socket without an address is one source of its own', () => {
    const { audit, summaries, refuse } = bound()
    times(3, () => refuse(undefined))
    audit.flush()
    assert.equal(summaries[0]?.count, 1)
    assert.equal(describeAddressGroup(summaries[0]?.addressGroup ?? ''), null)
  })

  void test('null settings turn the bound off', () => {
    const { audit, summaries, refuse } = bound(null)
    assert.ok(times(50, () => refuse('10.0.0.1')).every((recorded) => recorded))
    audit.flush()
    assert.deepEqual(summaries, [])
  })

  void test('close writes what is pending; later refusals are recorded one by one', () => {
    const { audit, summaries, refuse } = bound()
    times(4, () => refuse('10.0.0.1'))
    audit.close()
    assert.equal(summaries[0]?.count, 2)
    assert.ok(times(5, () => refuse('10.0.0.1')).every((recorded) => recorded))
    assert.equal(summaries.length, 1)
  })

  void test('the interval ends on its own timer', async () => {
    const { audit, summaries, refuse } = bound({ events: 1, intervalMs: 50 })
    times(3, () => refuse('10.0.0.1'))
    await waitFor(() => summaries.length === 1, 'the summary of the first interval')
    assert.equal(summaries[0]?.count, 2)
    assert.equal(audit.size, 0)
    audit.close()
  })
})

void describe('describeAddressGroup', () => {
  void test('reads IPv4 as the address, IPv6 as its canonical /64', () => {
    assert.equal(describeAddressGroup(addressGroup('192.0.2.7')), '192.0.2.7')
    assert.equal(describeAddressGroup(addressGroup('::ffff:192.0.2.7')), '192.0.2.7')
    assert.equal(describeAddressGroup(addressGroup('2001:db8::5')), '2001:db8::/64')
    assert.equal(describeAddressGroup(addressGroup('fe80::1:2:3:4')), 'fe80::/64')
    assert.equal(describeAddressGroup(addressGroup('2001:db8:a:b:c::')), '2001:db8:a:b::/64')
  })
})
