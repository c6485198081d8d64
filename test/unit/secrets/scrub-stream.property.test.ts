import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { test } from 'node:test'
import fc from 'fast-check'
import { ScrubStream } from '../../../src/secrets/scrubber.js'

// A small alphabet makes partial and overlapping matches common; '*' checks the mask choice.
const byteOf = fc.constantFrom(...Buffer.from('ab*\n'), 0x00, 0xff)
const valueArb = fc.uint8Array({ minLength: 1, maxLength: 10 }).chain((random) =>
  fc.oneof(
    fc.constant(Buffer.from(random)),
    fc.array(byteOf, { minLength: 1, maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
  ),
)

/** A body built from filler bytes with values inserted at random places, cut into chunks. */
const caseArb = fc.array(valueArb, { minLength: 1, maxLength: 3 }).chain((values) =>
  fc.record({
    values: fc.constant(values),
    pieces: fc.array(
      fc.oneof(
        fc.nat({ max: values.length - 1 }).map((i) => values[i] ?? Buffer.alloc(0)),
        fc.array(byteOf, { maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
      ),
      { maxLength: 30 },
    ),
    cuts: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 10 }),
  }),
)

function chunk(body: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = cuts[i % cuts.length] ?? 1
    chunks.push(body.subarray(at, at + size))
    at += size
  }
  return chunks
}

/** Which bytes of `body` lie inside some occurrence of some value, found the slow, obvious way. */
function coveredBytes(body: Buffer, values: Buffer[]): { covered: boolean[]; count: number } {
  const covered = Array.from({ length: body.length }, () => false)
  let count = 0
  for (const value of values) {
    for (let at = 0; at + value.length <= body.length; at++) {
      if (!body.subarray(at, at + value.length).equals(value)) continue
      count++
      for (let i = at; i < at + value.length; i++) covered[i] = true
    }
  }
  return { covered, count }
}

async function scrub(chunks: Buffer[], values: Buffer[]): Promise<[Buffer, number]> {
  const stream = new ScrubStream(values)
  const [out] = await Promise.all([buffer(stream), pipeline(Readable.from(chunks), stream)])
  return [out, stream.replacements]
}

test('ScrubStream masks every occurrence and nothing else, however the body is chunked', async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ values, pieces, cuts }) => {
      const body = Buffer.concat(pieces)
      const [out, replacements] = await scrub(chunk(body, cuts), values)
      const { covered, count } = coveredBytes(body, values)

      assert.equal(out.length, body.length)
      for (const value of values) assert.equal(out.indexOf(value), -1)
      for (let i = 0; i < body.length; i++) {
        if (covered[i]) assert.notEqual(out[i], body[i])
        else assert.equal(out[i], body[i])
      }
      assert.equal(replacements, count)
    }),
    { numRuns: 500 },
  )
})

test('ScrubStream output does not depend on how the body is chunked', async () => {
  await fc.assert(
    fc.asyncProperty(
      caseArb,
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1 }),
      async (c, other) => {
        const body = Buffer.concat(c.pieces)
        const [whole] = await scrub([body], c.values)
        const [oneByOne] = await scrub(chunk(body, [1]), c.values)
        const [chunked] = await scrub(chunk(body, other), c.values)

        assert.deepEqual(oneByOne, whole)
        assert.deepEqual(chunked, whole)
      },
    ),
    { numRuns: 300 },
  )
})
