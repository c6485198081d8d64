import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { parseStatLine, snapshotTreeCpu, ticksBetween } from '../../../bench/lib/process-cpu.js'

describe('parseStatLine', () => {
  test('reads ppid and utime + stime after the command name', () => {
    const line = '42 (nginx) S 7 42 42 0 -1 4194560 100 0 0 0 11 22 0 0 20 0 1 0 5 0 0'

    assert.deepEqual(parseStatLine(42, line), { pid: 42, ppid: 7, ticks: 33 })
  })

  test('counts fields from the last parenthesis, so odd command names do not shift them', () => {
    const line = '9 (a) b (c)) R 3 9 9 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 5 0 0'

    assert.deepEqual(parseStatLine(9, line), { pid: 9, ppid: 3, ticks: 11 })
  })

  test('refuses a truncated line', () => {
    assert.equal(parseStatLine(1, '1 (init) S 0 1'), null)
  })
})

describe('ticksBetween', () => {
  test('sums growth per PID and counts PIDs born in between from zero', () => {
    const before = new Map([
      [1, 100],
      [2, 50],
    ])
    const after = new Map([
      [1, 130],
      [2, 55],
      [3, 7],
    ])

    assert.equal(ticksBetween(before, after), 30 + 5 + 7)
  })
})

describe('snapshotTreeCpu', () => {
  test('includes the process itself', () => {
    const snapshot = snapshotTreeCpu(process.pid)

    assert.ok(snapshot.has(process.pid))
  })

  test('is empty for a PID that does not exist', () => {
    assert.equal(snapshotTreeCpu(2 ** 30).size, 0)
  })
})
