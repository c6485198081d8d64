import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import fc from 'fast-check'

import { formatDuration, isDuration, parseDuration } from '../../../src/config/duration.js'

void describe('parseDuration', () => {
  void test('reads every unit and bare milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('10s'), 10_000)
    assert.equal(parseDuration('5m'), 300_000)
    assert.equal(parseDuration('24h'), 86_400_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration('250'), 250)
    assert.equal(parseDuration(1500), 1500)
    assert.equal(parseDuration('0s'), 0)
  })

  void test('refuses fractions, signs, spaces, combined and unknown units', () => {
    for (const bad of ['1.5s', '-1s', ' 1s', '1 s', '1h30m', '10x', 's', '', '1S']) {
      assert.throws(() => parseDuration(bad), { code: 'TOLLGATE_INVALID_ARGUMENT' }, bad)
    }
    assert.throws(() => parseDuration(-1), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.throws(() => parseDuration(1.5), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.throws(() => parseDuration('99999999999999999d'), { code: 'TOLLGATE_INVALID_ARGUMENT' })
  })

  void test('isDuration agrees with parseDuration', () => {
    assert.equal(isDuration('10s'), true)
    assert.equal(isDuration('10 s'), false)
    assert.equal(isDuration(null), false)
  })
})

void describe('formatDuration', () => {
  void test('uses the largest exact unit', () => {
    assert.equal(formatDuration(0), '0ms')
    assert.equal(formatDuration(1500), '1500ms')
    assert.equal(formatDuration(10_000), '10s')
    assert.equal(formatDuration(90_000), '90s')
    assert.equal(formatDuration(7_200_000), '2h')
    assert.equal(formatDuration(604_800_000), '7d')
  })

  void test('round-trips through parseDuration', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), (ms) => parseDuration(formatDuration(ms)) === ms),
    )
  })
})
