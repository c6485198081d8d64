import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { readMachineCpu, stealPercent } from '../../../bench/lib/machine-cpu.js'

describe('readMachineCpu', () => {
  test('sums every state of the all-CPU line but guest time, and reads steal', () => {
    const stat = 'cpu  100 5 50 800 10 1 4 30 7 0\ncpu0 50 2 25 400 5 0 2 15 3 0\nintr 1\n'

    assert.deepEqual(readMachineCpu(stat), { total: 1000, steal: 30 })
  })

  test('is null without an all-CPU line or with one too short to hold steal', () => {
    assert.equal(readMachineCpu('cpu0 1 2 3 4\n'), null)
    assert.equal(readMachineCpu('cpu  1 2 3 4 5 6 7\n'), null)
  })

  test('reads this machine', () => {
    const now = readMachineCpu()

    assert.ok(now !== null && now.total > 0 && now.steal >= 0)
  })
})

describe('stealPercent', () => {
  test('is the share of all CPU time that was stolen between two readings', () => {
    const share = stealPercent({ total: 1000, steal: 30 }, { total: 1400, steal: 50 })

    assert.equal(share, 5)
  })

  test('is null when a reading is missing or no time passed', () => {
    assert.equal(stealPercent(null, { total: 1, steal: 0 }), null)
    assert.equal(stealPercent({ total: 5, steal: 0 }, { total: 5, steal: 0 }), null)
  })
})
