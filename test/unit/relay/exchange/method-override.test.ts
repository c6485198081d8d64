import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, test } from 'node:test'

import {
  FormOverrideScanner,
  JsonOverrideScanner,
  MultipartOverrideScanner,
  overrideScannerFor,
  type OverrideScanner,
} from '../../../../src/relay/exchange/body-override.js'
import { overriddenMethods } from '../../../../src/relay/exchange/method-override.js'

function request(method: string, rawHeaders: string[]): IncomingMessage {
  const headers: Record<string, string> = {}
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    headers[(rawHeaders[i] ?? '').toLowerCase()] = rawHeaders[i + 1] ?? ''
  }
  return { method, rawHeaders, headers } as unknown as IncomingMessage
}

function scanWhole(body: string, scanner: OverrideScanner = new FormOverrideScanner()): string[] {
  return [...scanner.push(Buffer.from(body)), ...scanner.end()]
}

/** The same body cut into three chunks at every pair of places (every 7th for the second). */
function everySplit(body: string, make: () => OverrideScanner, expected: string[]): void {
  for (let a = 0; a <= body.length; a++) {
    for (let b = a; b <= body.length; b += 7) {
      const scanner = make()
      const found = [
        ...scanner.push(Buffer.from(body.slice(0, a))),
        ...scanner.push(Buffer.from(body.slice(a, b))),
        ...scanner.push(Buffer.from(body.slice(b))),
        ...scanner.end(),
      ]
      assert.deepEqual(found, expected, `${a} ${b}`)
    }
  }
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
    everySplit(body, () => new FormOverrideScanner(), ['DELETE', 'PATCH'])
  })

  void test('a field too long to be _method is not kept', () => {
    assert.deepEqual(scanWhole(`${'x'.repeat(10_000)}=1&_method=PUT`), ['PUT'])
    assert.deepEqual(scanWhole(`_method${'%20'.repeat(300)}=PUT`), [])
  })

  void test('only POSTed forms and JSON are scanned', () => {
    const form = ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8']
    assert.ok(overrideScannerFor(request('POST', form))?.() instanceof FormOverrideScanner)
    assert.equal(overrideScannerFor(request('PUT', form)), null)
    const json = request('POST', ['Content-Type', 'application/vnd.api+json'])
    assert.ok(overrideScannerFor(json)?.() instanceof JsonOverrideScanner)
    assert.equal(overrideScannerFor(request('POST', ['Content-Type', 'text/plain'])), null)
  })
})

void describe('JsonOverrideScanner', () => {
  const json = (body: string) => scanWhole(body, new JsonOverrideScanner())

  void test('finds a top-level _method however its key is spelled, every time it appears', () => {
    const body =
      '{"a": {"_method": "PUT"}, "\\u005fmethod" : "delete", "list": ["_method", "x"],' +
      ' "s": "\\"_method\\": \\"GET\\"", "_METHOD":"patch"}'
    assert.deepEqual(json(body), ['DELETE', 'PATCH'])
    everySplit(body, () => new JsonOverrideScanner(), ['DELETE', 'PATCH'])
  })

  void test('skips nested strings whatever their escapes, across every split', () => {
    // Nested strings are jumped over; an escaped quote or a run of backslashes must not end
    // (or fail to end) them early, wherever a chunk boundary falls.
    const body =
      '{"a": {"t": "x\\"y\\\\", "u": "\\\\\\"_method\\": 1"}, "b": ["\\\\"],' +
      ' "_method": "DELETE"}'
    assert.deepEqual(JSON.parse(body)._method, 'DELETE')
    assert.deepEqual(json(body), ['DELETE'])
    everySplit(body, () => new JsonOverrideScanner(), ['DELETE'])
  })

  void test('ignores nested keys, non-string values, arrays at the top and a plain method key', () => {
    assert.deepEqual(json('{"x": {"_method": "DELETE"}}'), [])
    assert.deepEqual(json('{"_method": {"v": "DELETE"}, "b": "DELETE"}'), [])
    assert.deepEqual(json('{"_method": 5, "b": "DELETE"}'), [])
    assert.deepEqual(json('[{"_method": "DELETE"}]'), [])
    assert.deepEqual(json('{"method": "card"}'), [])
  })
})

void describe('MultipartOverrideScanner', () => {
  const boundary = 'XyZ-42'
  const part = (disposition: string, content: string) =>
    `--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n${content}\r\n`
  const body =
    part('form-data; name="title"', 'a _method=GET line of text') +
    part('form-data; name="_method"', 'delete') +
    part('form-data; name="upload"; filename="_method"', 'PUT') +
    part('form-data; name=_METHOD', ' patch ') +
    `--${boundary}--\r\n`

  void test('finds every _method part, and only those, whatever the chunks', () => {
    const scan = () => new MultipartOverrideScanner(boundary)
    assert.deepEqual(scanWhole(body, scan()), ['DELETE', 'PATCH'])
    everySplit(body, scan, ['DELETE', 'PATCH'])
  })

  void test('reads the boundary from the content type, quoted or not', () => {
    for (const type of [
      `multipart/form-data; boundary=${boundary}`,
      `multipart/form-data; boundary="${boundary}"`,
    ]) {
      const make = overrideScannerFor(request('POST', ['Content-Type', type]))
      assert.deepEqual(make ? scanWhole(body, make()) : null, ['DELETE', 'PATCH'], type)
    }
    assert.equal(overrideScannerFor(request('POST', ['Content-Type', 'multipart/form-data'])), null)
  })
})
