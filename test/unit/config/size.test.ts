import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { isSize, parseSize } from '../../../src/config/size.js'
import { baseWith, baseWithAppended, issuesOf, load } from './config-fixtures.js'

void describe('parseSize', () => {
  void test('reads k, m and g as powers of 1024, and bare bytes', () => {
    assert.equal(parseSize('512k'), 512 * 1024)
    assert.equal(parseSize('32m'), 32 * 1024 * 1024)
    assert.equal(parseSize('1g'), 1024 ** 3)
    assert.equal(parseSize('1000'), 1000)
    assert.equal(parseSize(4096), 4096)
  })

  void test('refuses fractions, signs, spaces, upper case and other units', () => {
    for (const bad of ['1.5m', '-1m', ' 1m', '1 m', '32MB', '32M', '1t', 'm', '', '1mb']) {
      assert.throws(() => parseSize(bad), { code: 'TOLLGATE_INVALID_ARGUMENT' }, bad)
      assert.equal(isSize(bad), false, bad)
    }
    assert.throws(() => parseSize(-1), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.throws(() => parseSize(0.5), { code: 'TOLLGATE_INVALID_ARGUMENT' })
    assert.throws(() => parseSize('99999999999999g'), { code: 'TOLLGATE_INVALID_ARGUMENT' })
  })
})

void describe('server.limits.requestBody and decodedResponse', () => {
  void test('default to 32 MiB and 256 MiB', () => {
    const { limits } = load(baseWith({})).config.server
    assert.equal(limits.requestBodyBytes, 32 * 1024 ** 2)
    assert.equal(limits.decodedResponseBytes, 256 * 1024 ** 2)
  })

  void test('are read as sizes', () => {
    const text = baseWithAppended('server:', '  limits: { requestBody: 2m, decodedResponse: 1g }')
    const { limits } = load(text).config.server
    assert.equal(limits.requestBodyBytes, 2 * 1024 ** 2)
    assert.equal(limits.decodedResponseBytes, 1024 ** 3)
  })

  void test('zero and malformed sizes are refused at their keys', () => {
    const zero = issuesOf(baseWithAppended('server:', '  limits: { requestBody: 0 }'))
    assert.match(zero.join('\n'), /requestBody/)
    const unit = issuesOf(baseWithAppended('server:', '  limits: { decodedResponse: 10MB }'))
    assert.match(unit.join('\n'), /decodedResponse/)
  })
})
