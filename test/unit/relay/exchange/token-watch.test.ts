import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { generateToken } from '../../../../src/identity/token-format.js'
import { TokenWatch, holdsWholeToken } from '../../../../src/relay/exchange/token-watch.js'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'

/** Feeds `body` to a fresh watch in two pieces cut at `at`; what it let out, or the error. */
function feed(body: string, at: number): { out: string; error: unknown } {
  const watch = new TokenWatch()
  let out = ''
  try {
    out += watch.push(Buffer.from(body.slice(0, at))).toString()
    out += watch.push(Buffer.from(body.slice(at))).toString()
    out += watch.end().toString()
    return { out, error: null }
  } catch (error) {
    return { out, error }
  }
}

describe('TokenWatch', () => {
  const token = generateToken()

  test('a token is caught however the body is split, before any of it is let out', () => {
    const body = `{"note":"${token}","more":1}`
    for (let at = 0; at <= body.length; at++) {
      const { out, error } = feed(body, at)
      assert.ok(isTollgateError(error), `split at ${at}`)
      assert.equal(error.code, 'TOLLGATE_TOKEN_EXFILTRATION')
      assert.ok(!out.includes('tgt_'), `split at ${at} let out ${out}`)
    }
  })

  test('a body without one comes out whole and in order, however it is split', () => {
    const bodies = [
      `plain text`,
      `near misses: tgt_short, tgt_${'x'.repeat(42)}!, tgt_${'y'.repeat(20)}.${'z'.repeat(30)}`,
      `ends with a start: tgt_${'a'.repeat(42)}`,
      'tgt',
    ]
    for (const body of bodies) {
      for (let at = 0; at <= body.length; at++) {
        assert.deepEqual(feed(body, at), { out: body, error: null }, `${body} split at ${at}`)
      }
    }
  })

  test('only what could start a token is held back; the rest goes on at once', () => {
    const watch = new TokenWatch()
    assert.equal(watch.push(Buffer.from('answer me now')).toString(), 'answer me now')
    assert.equal(watch.push(Buffer.from('wait tgt_abc')).toString(), 'wait ')
    assert.equal(watch.push(Buffer.from(' no')).toString(), 'tgt_abc no')
    assert.equal(watch.end().length, 0)
  })

  test('holdsWholeToken finds one anywhere in a buffer, not a shorter run', () => {
    assert.equal(holdsWholeToken(Buffer.from(`x=${token}&y=1`)), true)
    assert.equal(holdsWholeToken(Buffer.from(`x=${token.slice(0, -1)}`)), false)
    assert.equal(holdsWholeToken(Buffer.from('tgt_tgt_tgt_')), false)
  })
})
