import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { reverseCredentials } from '../../../../src/relay/listeners/reverse-proxy.js'
import { assertRefused } from '../target/refusal.js'

/** Raw headers as Node hands them over: name, value, name, value… */
function raw(...lines: string[]): string[] {
  return lines.flatMap((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon), line.slice(colon + 1).trim()]
  })
}

/**
 * Which token names the caller on a reverse route. Issue #3's corpus found a request with one
 * agent's token in `Authorization` and another's in `X-Api-Key` decided and recorded for the
 * second, the first dropped unseen.
 */
describe('reverseCredentials', () => {
  test('the token comes from Authorization: Bearer or from X-Api-Key', () => {
    assert.deepEqual(reverseCredentials(raw('Authorization: Bearer tgt_a')), {
      agent: null,
      token: 'tgt_a',
    })
    assert.deepEqual(reverseCredentials(raw('x-api-key: tgt_a')), { agent: null, token: 'tgt_a' })
  })

  test('both headers may carry the same token, as an SDK given both settings sends it', () => {
    const headers = raw('X-Api-Key: tgt_a', 'authorization: bearer   tgt_a')
    assert.deepEqual(reverseCredentials(headers), { agent: null, token: 'tgt_a' })
  })

  test('two different tokens name two callers and are refused', () => {
    const pairs = [
      ['Authorization: Bearer tgt_a', 'X-Api-Key: tgt_b'],
      ['X-Api-Key: tgt_b', 'Authorization: Bearer tgt_a'],
      ['Authorization: Bearer wrong', 'X-Api-Key: tgt_a'],
      ['Authorization: Basic Ym90OnRndF9h', 'X-Api-Key: tgt_a'],
      ['Authorization: tgt_a', 'X-Api-Key: tgt_a'],
      ['Authorization: Bearer tgt_a', 'X-Api-Key: '],
    ]
    for (const pair of pairs) {
      assertRefused(
        () => reverseCredentials(raw(...pair)),
        'TOLLGATE_AMBIGUOUS_TARGET',
        pair.join(),
      )
    }
  })

  test('a header twice is refused, in any case', () => {
    const twice = raw('X-API-KEY: tgt_a', 'x-api-key: tgt_a')
    assertRefused(() => reverseCredentials(twice), 'TOLLGATE_AMBIGUOUS_TARGET', 'x-api-key twice')
  })

  test('no token at all asks for one', () => {
    const none = raw('Proxy-Authorization: Bearer tgt_a', 'Api-Key: tgt_a')
    assertRefused(() => reverseCredentials(none), 'TOLLGATE_AUTH_REQUIRED', 'no token header')
  })
})
