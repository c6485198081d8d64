import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { redactQuery } from '../../../../src/relay/exchange/redact-query.js'

// redactQuery lives in relay/exchange; it is tested here beside the other header and query
// handling that decides what of a request may be recorded.
const CASES: ReadonlyArray<[string, string]> = [
  ['', ''],
  ['?', '?'],
  ['?a=1', '?a=REDACTED'],
  ['?api_key=sk-live-123&page=2', '?api_key=REDACTED&page=REDACTED'],
  ['?flag', '?flag'],
  ['?flag&k=v', '?flag&k=REDACTED'],
  ['?k=', '?k=REDACTED'],
  ['?=v', '?=REDACTED'],
  ['?k=a=b', '?k=REDACTED'],
  ['?a=1&&b=2', '?a=REDACTED&&b=REDACTED'],
  ['?a%3Db=secret', '?a%3Db=REDACTED'],
  ['?k=v;x=y', '?k=REDACTED'],
]

describe('redactQuery', () => {
  for (const [query, expected] of CASES) {
    test(`${JSON.stringify(query)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(redactQuery(query), expected)
    })
  }

  test('no value of a name=value pair survives, and every name does', () => {
    const name = fc.stringMatching(/^[a-z_]{1,8}$/)
    const value = fc.stringMatching(/^[A-Za-z0-9%._-]{1,16}$/).filter((v) => v !== 'REDACTED')
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }), (pairs) => {
        const redacted = redactQuery('?' + pairs.map(([n, v]) => `${n}=${v}`).join('&'))
        const parts = redacted.slice(1).split('&')
        assert.deepEqual(
          parts,
          pairs.map(([n]) => `${n}=REDACTED`),
        )
      }),
      { numRuns: 500, seed: 7 },
    )
  })
})
