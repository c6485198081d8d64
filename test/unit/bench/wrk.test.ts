import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parseWrkOutput } from '../../../bench/lib/wrk.js'
import { writeWrkScript } from '../../../bench/lib/wrk-script.js'

const SUMMARY =
  'WRK_JSON {"requests":1000,"durationUs":2000000,"bytes":1300000,' +
  '"errors":{"connect":0,"read":0,"write":0,"status":3,"timeout":0},' +
  '"latencyUs":{"p50":120,"p90":200,"p99":900,"max":4000,"mean":150.5}}'

describe('parseWrkOutput', () => {
  test('reads the done() hook line among wrk text', () => {
    const stdout = `Running 2s test @ http://127.0.0.1:1/\n${SUMMARY}\nRequests/sec: 500\n`
    const result = parseWrkOutput(stdout, '', 0)

    assert.equal(result.requests, 1000)
    assert.equal(result.errors.status, 3)
    assert.equal(result.latencyUs.p99, 900)
  })

  test('fails with wrk output when wrk exited non-zero', () => {
    assert.throws(() => parseWrkOutput(SUMMARY, 'unable to connect', 1), /unable to connect/)
  })

  test('fails when the summary line is missing', () => {
    assert.throws(() => parseWrkOutput('Requests/sec: 5', '', 0), /wrk failed/)
  })

  test('fails when the summary lacks a field', () => {
    const partial = SUMMARY.replace('"p99":900,', '')

    assert.throws(() => parseWrkOutput(partial, '', 0), /unexpected summary/)
  })
})

describe('writeWrkScript', () => {
  test('sets the absolute-form path and headers for a forward proxy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'))
    try {
      const shape = {
        absoluteTarget: 'http://127.0.0.1:8080/',
        headers: { Host: '127.0.0.1:8080' },
      }
      const text = readFileSync(writeWrkScript(dir, 'squid', shape), 'utf8')

      assert.match(text, /^wrk\.path = "http:\/\/127\.0\.0\.1:8080\/"$/m)
      assert.match(text, /^wrk\.headers\["Host"\] = "127\.0\.0\.1:8080"$/m)
      assert.match(text, /^done = function/m)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('refuses values that would break out of a Lua string', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'))
    try {
      const shape = { headers: { 'X-Evil': 'a" os.execute("true' } }

      assert.throws(() => writeWrkScript(dir, 'evil', shape), /Lua escaping/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
