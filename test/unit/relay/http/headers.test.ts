import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import {
  forwardableHeaders,
  forwardableResponseHeaders,
  singleHeader,
} from '../../../../src/relay/http/headers.js'

const NONE: ReadonlySet<string> = new Set()

/** Raw headers as Node hands them over: name, value, name, value… */
function raw(...pairs: Array<[string, string]>): string[] {
  return pairs.flat()
}

describe('forwardableHeaders', () => {
  test('every hop-by-hop header is removed, whatever its case', () => {
    const hopByHop = [
      'Connection',
      'Keep-Alive',
      'Proxy-Connection',
      'Proxy-Authorization',
      'Proxy-Authenticate',
      'TE',
      'Trailer',
      'Transfer-Encoding',
      'Upgrade',
      'Expect',
      'Host',
    ]
    const names = [...hopByHop, ...hopByHop.map((n) => n.toUpperCase())]
    const sent = raw(['Accept', '*/*'], ...names.map((n): [string, string] => [n, 'x']))
    const headers = forwardableHeaders(sent, NONE)

    assert.deepEqual({ ...headers }, { accept: '*/*' })
  })

  test("the relay's own tollgate-* headers never go upstream, whatever their case", () => {
    const headers = forwardableHeaders(
      raw(['Tollgate-Request-Id', 'req_forged'], ['TOLLGATE-ERROR', 'x'], ['X-Tollgate', 'kept']),
      NONE,
    )

    assert.deepEqual({ ...headers }, { 'x-tollgate': 'kept' })
  })

  test('names listed in Connection are removed, from every Connection header, any case', () => {
    const headers = forwardableHeaders(
      raw(
        ['Connection', 'X-Drop-One, keep-alive'],
        ['X-Drop-One', '1'],
        ['x-drop-two', '2'],
        ['connection', ' X-DROP-TWO ,,'],
        ['X-Keep', '3'],
      ),
      NONE,
    )

    assert.deepEqual({ ...headers }, { 'x-keep': '3' })
  })

  test('a Connection header naming the agent credential headers drops them', () => {
    const headers = forwardableHeaders(
      raw(['Connection', 'authorization, cookie'], ['Authorization', 'Bearer x'], ['Cookie', 'c']),
      NONE,
    )

    assert.deepEqual({ ...headers }, {})
  })

  test('the drop set is honoured (lower-case names)', () => {
    const drop = new Set(['x-api-key', 'authorization'])
    const headers = forwardableHeaders(
      raw(['X-Api-Key', 'tgt_agent'], ['AUTHORIZATION', 'Bearer tgt_agent'], ['Accept', 'a']),
      drop,
    )

    assert.deepEqual({ ...headers }, { accept: 'a' })
  })

  test('duplicates are kept, in order, under one lower-case name', () => {
    const headers = forwardableHeaders(
      raw(['X-A', '1'], ['Accept', 'a'], ['x-a', '2'], ['X-a', '3'], ['Set-Cookie', 's']),
      NONE,
    )

    assert.deepEqual(headers['x-a'], ['1', '2', '3'])
    assert.equal(headers['accept'], 'a')
    assert.deepEqual(Object.keys(headers), ['x-a', 'accept', 'set-cookie'])
  })

  test('values are passed on exactly, including empty ones', () => {
    const headers = forwardableHeaders(raw(['X-Empty', ''], ['X-Spaced', 'a  b,c']), NONE)

    assert.deepEqual({ ...headers }, { 'x-empty': '', 'x-spaced': 'a  b,c' })
  })

  test('a header named __proto__ is an ordinary entry, not a prototype change', () => {
    const headers = forwardableHeaders(raw(['__proto__', 'x'], ['constructor', 'y']), NONE)

    assert.equal(Object.getPrototypeOf(headers), null)
    assert.deepEqual(Object.keys(headers), ['__proto__', 'constructor'])
    assert.equal(headers['__proto__'], 'x')
  })

  test('a trailing name without a value is ignored', () => {
    assert.deepEqual(
      { ...forwardableHeaders(['Accept', 'a', 'X-Dangling'], NONE) },
      { accept: 'a' },
    )
  })
})

describe('forwardableResponseHeaders', () => {
  test('an upstream cannot hand back tollgate-* headers that pass for a relay refusal', () => {
    const headers = forwardableResponseHeaders({
      'tollgate-error': 'TOLLGATE_POLICY_DENIED',
      'tollgate-request-id': 'req_fake',
      'content-type': 'application/json',
    })

    assert.deepEqual({ ...headers }, { 'content-type': 'application/json' })
  })

  test('hop-by-hop headers and names listed in Connection are not handed back', () => {
    const headers = forwardableResponseHeaders({
      connection: 'x-internal',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      'x-internal': 'upstream detail',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
    })

    assert.deepEqual({ ...headers }, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] })
  })
})

describe('singleHeader', () => {
  test('returns null when absent and the value when present once, any case', () => {
    assert.equal(singleHeader(raw(['Accept', 'a']), 'host'), null)
    assert.equal(singleHeader(raw(['HOST', 'example.com'], ['Accept', 'a']), 'host'), 'example.com')
    assert.equal(singleHeader(raw(['Host', '']), 'host'), '')
  })

  test('refuses a header sent twice, even with the same value or another case', () => {
    for (const sent of [
      raw(['Host', 'a.test'], ['Host', 'b.test']),
      raw(['Host', 'a.test'], ['host', 'a.test']),
      raw(['Proxy-Authorization', 'Basic x'], ['Accept', 'a'], ['PROXY-AUTHORIZATION', 'Basic y']),
    ]) {
      const name = (sent[0] ?? '').toLowerCase()
      assert.throws(
        () => singleHeader(sent, name),
        (error: unknown) => isTollgateError(error) && error.code === 'TOLLGATE_AMBIGUOUS_TARGET',
      )
    }
  })

  test('the refusal names the header but never echoes its values', () => {
    try {
      singleHeader(
        raw(['Proxy-Authorization', 'Basic c2VjcmV0'], ['proxy-authorization', 'x']),
        'proxy-authorization',
      )
      assert.fail('expected a refusal')
    } catch (error) {
      assert.ok(isTollgateError(error))
      assert.match(error.message, /proxy-authorization/)
      assert.doesNotMatch(error.message, /c2VjcmV0/)
    }
  })
})
