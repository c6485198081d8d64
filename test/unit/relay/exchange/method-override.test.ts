import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, test } from 'node:test'

import {
  FormOverrideScanner,
  isOverridableForm,
  overriddenMethods,
} from '../../../../src/relay/exchange/method-override.js'

function request(method: string, rawHeaders: string[]): IncomingMessage {
  const headers: Record<string, string> = {}
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    headers[(rawHeaders[i] ?? '').toLowerCase()] = rawHeaders[i + 1] ?? ''
  }
  return { method, rawHeaders, headers } as unknown as IncomingMessage
}

function scanWhole(body: string): string[] {
  const scanner = new FormOverrideScanner()
  return [...scanner.push(Buffer.from(body)), ...scanner.end()]
}

void describe('overriddenMethods', () => {
  void test('reads header names with _ for - and parameter names decoded', () => {
    const req = request('POST', ['X_HTTP_Method_Override', 'delete'])
    assert.deepEqual(overriddenMethods(req, ''), ['DELETE'])
    for (const query of ['?%5Fmethod=PUT', '?_%6Dethod=PUT', '?_METHOD=PUT', '?.method=PUT']) {
      assert.deepEqual(overriddenMethods(request('POST', []), query), ['PUT'], query)
    }
  })

  void test('the request line method itself is not an override', () => {
    assert.deepEqual(overriddenMethods(request('POST', []), '?_method=post'), [])
    assert.deepEqual(overriddenMethods(request('GET', []), '?page=2&x'), [])
  })
})

void describe('FormOverrideScanner', () => {
  const body = 'a=1&%5F%6Dethod=delete&b=%26&_method=PATCH&method=card'

  void test('finds every _method field, escaped or not, and only those', () => {
    assert.deepEqual(scanWhole(body), ['DELETE', 'PATCH'])
  })

  void test('finds the same whatever the chunks', () => {
    for (let a = 0; a <= body.length; a++) {
      for (let b = a; b <= body.length; b += 7) {
        const scanner = new FormOverrideScanner()
        const found = [
          ...scanner.push(Buffer.from(body.slice(0, a))),
          ...scanner.push(Buffer.from(body.slice(a, b))),
          ...scanner.push(Buffer.from(body.slice(b))),
          ...scanner.end(),
        ]
        assert.deepEqual(found, ['DELETE', 'PATCH'], `${a} ${b}`)
      }
    }
  })

  void test('a field too long to be _method is not kept', () => {
    assert.deepEqual(scanWhole(`${'x'.repeat(10_000)}=1&_method=PUT`), ['PUT'])
    assert.deepEqual(scanWhole(`_method${'%20'.repeat(300)}=PUT`), [])
  })

  void test('only a POSTed urlencoded form counts', () => {
    const form = ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8']
    assert.equal(isOverridableForm(request('POST', form)), true)
    assert.equal(isOverridableForm(request('PUT', form)), false)
    assert.equal(isOverridableForm(request('POST', ['Content-Type', 'application/json'])), false)
  })
})
