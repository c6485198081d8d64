import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PlaceholderSwap, swapPlaceholder } from '../../../src/secrets/placeholder-swap.js'

const PLACEHOLDER = Buffer.from('tg-ph-0001')
const SECRET = Buffer.from('the-real-SECRET-is-longer')

function swapChunks(chunks: Buffer[], secret = SECRET): { out: string; swaps: number } {
  const swap = new PlaceholderSwap(PLACEHOLDER, secret)
  const parts = chunks.map((chunk) => swap.push(chunk))
  parts.push(swap.end())
  return { out: Buffer.concat(parts).toString(), swaps: swap.swaps }
}

void describe('PlaceholderSwap', () => {
  const body = '{"key":"tg-ph-0001","again":"tg-ph-0001tg-ph-0001","x":"tg-ph-000"}'
  const expected = body.replaceAll('tg-ph-0001', SECRET.toString())

  void test('swaps every placeholder in a whole body, and leaves a partial one', () => {
    const { out, swaps } = swapChunks([Buffer.from(body)])
    assert.equal(out, expected)
    assert.equal(swaps, 3)
    assert.ok(out.endsWith('"x":"tg-ph-000"}'))
  })

  void test('gives the same result for every single and double split of the body', () => {
    const bytes = Buffer.from(body)
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 3) {
        const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]
        assert.equal(swapChunks(chunks).out, expected, `split at ${i}, ${j}`)
      }
    }
  })

  void test('one byte at a time, and with a secret shorter than the placeholder', () => {
    const bytes = [...Buffer.from(body)].map((byte) => Buffer.from([byte]))
    assert.equal(swapChunks(bytes).out, expected)
    const short = swapChunks(bytes, Buffer.from('s'))
    assert.equal(short.out, body.replaceAll('tg-ph-0001', 's'))
  })

  void test('holds back no more than a placeholder could still need', () => {
    const swap = new PlaceholderSwap(PLACEHOLDER, SECRET)
    const out = swap.push(Buffer.from('0123456789abcdef'))
    assert.equal(out.toString(), '0123456')
    assert.equal(swap.end().toString(), '789abcdef')
  })

  void test('a placeholder that starts inside a near miss is still found', () => {
    const text = 'tg-ph-tg-ph-0001'
    assert.equal(swapChunks([Buffer.from(text)]).out, `tg-ph-${SECRET.toString()}`)
    const split = swapChunks([Buffer.from('tg-ph-tg-'), Buffer.from('ph-0001')])
    assert.equal(split.out, `tg-ph-${SECRET.toString()}`)
  })

  void test('swapPlaceholder does a whole body at once', () => {
    assert.equal(swapPlaceholder(Buffer.from(body), PLACEHOLDER, SECRET).toString(), expected)
    assert.equal(swapPlaceholder(Buffer.from('none'), PLACEHOLDER, SECRET).toString(), 'none')
  })
})
