import assert from 'node:assert/strict'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { describe, test } from 'node:test'
import { HEADER_REDACTION, ScrubStream, scrubHeaders } from '../../../src/secrets/scrubber.js'

async function scrub(
  chunks: Array<string | Buffer>,
  values: string[],
): Promise<{ text: string; replacements: number }> {
  const stream = new ScrubStream(values)
  const [out] = await Promise.all([buffer(stream), pipeline(Readable.from(chunks), stream)])
  return { text: out.toString('utf8'), replacements: stream.replacements }
}

describe('scrubHeaders', () => {
  test('redacts every occurrence in strings and lists, and counts them', () => {
    const headers: Record<string, string | string[] | undefined> = {
      'x-echo': 'Bearer s3cret-value and s3cret-value',
      'set-cookie': ['a=s3cret-value', 'b=1'],
      location: '/cb?token=s3cret%2Dvalue',
      empty: undefined,
      plain: 'nothing here',
    }

    const count = scrubHeaders(headers, ['s3cret-value', 'Bearer s3cret-value', 's3cret%2Dvalue'])

    assert.equal(count, 4)
    assert.deepEqual(headers, {
      'x-echo': `${HEADER_REDACTION} and ${HEADER_REDACTION}`,
      'set-cookie': [`a=${HEADER_REDACTION}`, 'b=1'],
      location: `/cb?token=${HEADER_REDACTION}`,
      empty: undefined,
      plain: 'nothing here',
    })
  })

  test('one values list serves many responses, each scrubbed on its own', () => {
    const values = Object.freeze(['short-secret', 'Bearer short-secret'])
    const first = { a: 'Bearer short-secret' }
    const second = { b: 'x short-secret', c: 'clean' }

    assert.equal(scrubHeaders(first, values), 1)
    assert.equal(scrubHeaders(second, values), 1)
    assert.deepEqual(first, { a: HEADER_REDACTION })
    assert.deepEqual(second, { b: `x ${HEADER_REDACTION}`, c: 'clean' })
  })

  test('ignores empty values', () => {
    const headers = { a: 'abc' }

    assert.equal(scrubHeaders(headers, ['']), 0)
    assert.deepEqual(headers, { a: 'abc' })
  })
})

describe('ScrubStream', () => {
  test('streams sharing one values list keep their own state', async () => {
    const values = ['split-secret']
    const a = await scrub(['one split-', 'secret'], values)
    const b = await scrub(['split-secret two'], values)

    assert.deepEqual(a, { text: 'one ************', replacements: 1 })
    assert.deepEqual(b, { text: '************ two', replacements: 1 })
  })

  test('masks a value inside one chunk with as many stars', async () => {
    const result = await scrub(['before SECRET after'], ['SECRET'])

    assert.deepEqual(result, { text: 'before ****** after', replacements: 1 })
  })

  test('masks a value split across every possible boundary', async () => {
    const body = 'xxSECRETyy'
    for (let cut = 1; cut < body.length; cut++) {
      const result = await scrub([body.slice(0, cut), body.slice(cut)], ['SECRET'])
      assert.equal(result.text, 'xx******yy', `cut at ${cut}`)
      assert.equal(result.replacements, 1)
    }
  })

  test('masks overlapping and repeated occurrences, one byte at a time', async () => {
    const body = 'abababxabab'

    const result = await scrub([...body], ['abab'])

    assert.deepEqual(result, { text: '******x****', replacements: 3 })
  })

  test('masks several values, including one inside another', async () => {
    const result = await scrub(
      ['k=LONGSECRET; s=SECRET; e=U0VDUkVU'],
      ['SECRET', 'LONGSECRET', 'U0VDUkVU'],
    )

    assert.equal(result.text, 'k=**********; s=******; e=********')
    assert.equal(result.replacements, 4)
  })

  test('a held partial match that turns out not to be one is passed on unchanged', async () => {
    const result = await scrub(['data: SEC', 'RE', 'CT', ' end'], ['SECRET'])

    assert.deepEqual(result, { text: 'data: SECRECT end', replacements: 0 })
  })

  test('emits a chunk with no partial-match tail before the stream ends', async () => {
    const stream = new ScrubStream(['SECRET'])
    const event = 'data: {"delta":"hello"}\n\n'

    stream.write(event)
    const [chunk] = (await once(stream, 'data')) as [Buffer]

    assert.equal(chunk.toString(), event)
    assert.equal(stream.writableEnded, false)
    stream.end()
  })

  test('holds back only the tail that could start a value', async () => {
    const stream = new ScrubStream(['SECRET'])

    stream.write('event one SEC')
    const [chunk] = (await once(stream, 'data')) as [Buffer]

    assert.equal(chunk.toString(), 'event one ')
    stream.end()
  })

  test('does not mutate the chunks it was given', async () => {
    const chunk = Buffer.from('a SECRET b')

    await scrub([chunk], ['SECRET'])

    assert.equal(chunk.toString(), 'a SECRET b')
  })

  test('handles a large body in small chunks', async () => {
    const filler = 'x'.repeat(1_000)
    const body = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? 'SECRET' : filler)).join('')
    const chunks = body.match(/[\s\S]{1,7}/g) ?? []

    const result = await scrub(chunks, ['SECRET'])

    assert.equal(result.replacements, 6)
    assert.equal(result.text, body.replaceAll('SECRET', '******'))
  })

  test('handles a large body in one chunk', async () => {
    const body = `${'y'.repeat(8 * 1024 * 1024)}SECRET${'y'.repeat(1024)}`

    const result = await scrub([Buffer.from(body)], ['SECRET'])

    assert.equal(result.replacements, 1)
    assert.equal(result.text, body.replace('SECRET', '******'))
  })
})
