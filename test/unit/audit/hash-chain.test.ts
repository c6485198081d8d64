import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AUDIT_FIELDS,
  GENESIS_HASH,
  INPUT_FIELDS,
  canonicalJson,
  canonicalTail,
  canonicalizeEvent,
  formatHead,
  hashEvent,
  orderedFields,
  parseHead,
} from '../../../src/audit/hash-chain.js'

describe('canonical JSON', () => {
  test('writes every field, in AUDIT_FIELDS order, with null for the absent ones', () => {
    const json = canonicalJson(
      7,
      '2025-01-02T03:04:05.678Z',
      canonicalTail({ type: 'auth.failed' }),
    )
    const parsed = JSON.parse(json) as Record<string, unknown>

    assert.deepEqual(Object.keys(parsed), [...AUDIT_FIELDS])
    assert.equal(parsed['seq'], 7)
    assert.equal(parsed['time'], '2025-01-02T03:04:05.678Z')
    assert.equal(parsed['type'], 'auth.failed')
    assert.equal(parsed['agent'], null)
    assert.equal(parsed['detail'], null)
  })

  test('does not depend on the order the caller wrote the fields in', () => {
    const a = canonicalTail({ type: 'request.decided', agent: 'a', host: 'h', port: 443 })
    const b = canonicalTail({ port: 443, host: 'h', agent: 'a', type: 'request.decided' })

    assert.equal(a, b)
  })

  test('sorts the keys of detail at every depth and keeps array order', () => {
    const tail = canonicalTail({
      type: 'config.loaded',
      detail: { zeta: 1, alpha: { y: [3, 1, 2], x: true } },
    })

    assert.ok(tail.endsWith('"detail":{"alpha":{"x":true,"y":[3,1,2]},"zeta":1}}'))
  })

  test('keeps a __proto__ key in detail as data', () => {
    const detail = JSON.parse('{"__proto__":{"polluted":true},"b":1}') as Record<string, unknown>
    const tail = canonicalTail({ type: 'config.loaded', detail })

    assert.ok(tail.includes('"detail":{"__proto__":{"polluted":true},"b":1}'))
  })

  test('refuses what JSON cannot carry', () => {
    assert.throws(() => canonicalTail({ type: 'config.loaded', detail: { n: 1n } }))
  })

  test('re-canonicalising a parsed event gives back the same bytes', () => {
    const tail = canonicalTail({
      type: 'secret.set',
      credentials: ['gh'],
      detail: { b: 'é\u2028', a: 1.5 },
    })
    const json = canonicalJson(1, '2025-01-01T00:00:00.000Z', tail)

    assert.equal(canonicalizeEvent(JSON.parse(json) as Record<string, unknown>), json)
  })
})

describe('hashEvent', () => {
  test('is sha256 of the previous hash, a newline and the JSON, in hex', () => {
    const json = '{"seq":1}'
    const expected = createHash('sha256').update(`${GENESIS_HASH}\n${json}`).digest('hex')

    assert.equal(hashEvent(GENESIS_HASH, json), expected)
    assert.match(expected, /^[0-9a-f]{64}$/)
  })

  test('changes when the previous hash, the seq or the time changes', () => {
    const tail = canonicalTail({ type: 'relay.started' })
    const base = hashEvent(GENESIS_HASH, canonicalJson(1, '2025-01-01T00:00:00.000Z', tail))

    const otherPrev = hashEvent('1'.repeat(64), canonicalJson(1, '2025-01-01T00:00:00.000Z', tail))
    const otherSeq = hashEvent(GENESIS_HASH, canonicalJson(2, '2025-01-01T00:00:00.000Z', tail))
    const otherTime = hashEvent(GENESIS_HASH, canonicalJson(1, '2025-01-01T00:00:00.001Z', tail))
    assert.equal(new Set([base, otherPrev, otherSeq, otherTime]).size, 4)
  })

  test('genesis is 64 zeros', () => {
    assert.equal(GENESIS_HASH, '0'.repeat(64))
  })
})

describe('head anchor', () => {
  test('round-trips seq and hash', () => {
    const head = { seq: 42, hash: 'ab'.repeat(32) }

    assert.deepEqual(parseHead(formatHead(head)), head)
  })

  test('rejects anything that is not <seq>:<64 hex>', () => {
    for (const value of [undefined, '', '42', `42:${'a'.repeat(63)}`, `x:${'a'.repeat(64)}`]) {
      assert.equal(parseHead(value), null)
    }
  })
})

describe('orderedFields', () => {
  test('spells out exactly the hashed fields after seq and time, in order', () => {
    assert.deepEqual(Object.keys(orderedFields({ type: 'relay.started' })), [...INPUT_FIELDS])
  })
})
