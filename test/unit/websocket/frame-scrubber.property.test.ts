import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { FrameScrubber } from '../../../src/relay/websocket/frame-scrubber.js'
import { encodeFrame, expectedScrub, type TestFrame } from './frames.js'

// A small alphabet makes partial and overlapping matches, across fragments too, common.
const byteOf = fc.constantFrom(...Buffer.from('abT\n'), 0x00, 0xff)
const valueArb = fc.array(byteOf, { minLength: 2, maxLength: 6 }).map((bytes) => Buffer.from(bytes))

/** Payload pieces: filler bytes and whole values, joined. */
function payloadArb(values: Buffer[], maxPieces: number) {
  return fc
    .array(
      fc.oneof(
        fc.constantFrom(...values),
        fc.array(byteOf, { maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
      ),
      { maxLength: maxPieces },
    )
    .map((pieces) => Buffer.concat(pieces))
}

/** A message cut into fragments, with control frames (short payloads) between them. */
function messageArb(values: Buffer[]) {
  const control = fc.record({
    opcode: fc.constantFrom(0x8, 0x9, 0xa),
    payload: payloadArb(values, 4).map((bytes) => bytes.subarray(0, 125)),
  })
  const fragment = fc.record({
    payload: payloadArb(values, 6),
    lengthForm: fc.constantFrom<7 | 16 | 64 | undefined>(undefined, undefined, 16, 64),
    controls: fc.array(control, { maxLength: 1 }),
  })
  return fc
    .tuple(fc.constantFrom(0x1, 0x2), fc.array(fragment, { minLength: 1, maxLength: 4 }))
    .map(([opcode, fragments]) =>
      fragments.flatMap((fragment, i): TestFrame[] => {
        const data: TestFrame = {
          opcode: i === 0 ? opcode : 0x0,
          payload: fragment.payload,
          fin: i === fragments.length - 1,
        }
        if (fragment.lengthForm !== undefined) data.lengthForm = fragment.lengthForm
        return i === 0 ? [data] : [...fragment.controls, data]
      }),
    )
}

const caseArb = fc.array(valueArb, { minLength: 1, maxLength: 2 }).chain((values) =>
  fc.record({
    values: fc.constant(values),
    messages: fc.array(messageArb(values), { maxLength: 4 }),
    cuts: fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 1, maxLength: 8 }),
  }),
)

function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = cuts[i % cuts.length] ?? 1
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

test('any framing, fragmentation and chunking: every value masked, every length kept', () => {
  fc.assert(
    fc.property(caseArb, ({ values, messages, cuts }) => {
      const frames = messages.flat()
      const input = Buffer.concat(frames.map(encodeFrame))
      const scrubber = new FrameScrubber(values)
      const out = Buffer.concat(chunk(input, cuts).map((piece) => scrubber.push(piece)))

      assert.deepEqual(out, expectedScrub(frames, values))
    }),
    { numRuns: 400 },
  )
})
