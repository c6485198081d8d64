import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FrameError } from '../../../src/relay/websocket/frame-error.js'
import { FrameScrubber } from '../../../src/relay/websocket/frame-scrubber.js'
import { cutAt, encodeFrame, expectedScrub, type TestFrame } from './frames.js'

const SECRET = 'Tk-SECRET-42-value'
const VALUES = [Buffer.from(SECRET)]
const MASK = '*'.repeat(SECRET.length)

const text = (payload: string, fin = true): TestFrame => ({
  opcode: 0x1,
  payload: Buffer.from(payload),
  fin,
})
const more = (payload: string, fin = true): TestFrame => ({
  opcode: 0x0,
  payload: Buffer.from(payload),
  fin,
})
const ping = (payload: string): TestFrame => ({ opcode: 0x9, payload: Buffer.from(payload) })

function scrubChunks(chunks: Buffer[], values = VALUES): Buffer {
  const scrubber = new FrameScrubber(values)
  return Buffer.concat(chunks.map((chunk) => scrubber.push(chunk)))
}

function wire(frames: TestFrame[]): Buffer {
  return Buffer.concat(frames.map(encodeFrame))
}

/** Feeds `frames` cut at every single offset, then at every pair of offsets. */
function assertEverySplit(frames: TestFrame[]): void {
  const input = wire(frames)
  const expected = expectedScrub(frames, VALUES)
  assert.ok(!expected.includes(SECRET), 'the fixture itself masks the secret')
  assert.deepEqual(scrubChunks([input]), expected)

  for (let a = 1; a < input.length; a++) {
    assert.deepEqual(scrubChunks(cutAt(input, [a])), expected, `cut at ${a}`)
    for (let b = a + 1; b < input.length; b++) {
      assert.deepEqual(scrubChunks(cutAt(input, [a, b])), expected, `cut at ${a}, ${b}`)
    }
  }
}

describe('FrameScrubber', () => {
  test('masks a value in text, binary and control frames, lengths unchanged', () => {
    const frames: TestFrame[] = [
      text(`echo: Bearer ${SECRET}!`),
      { opcode: 0x2, payload: Buffer.from(`\x00\x01${SECRET}\xff`, 'latin1') },
      ping(SECRET),
      { opcode: 0xa, payload: Buffer.from(`pong ${SECRET}`) },
      { opcode: 0x8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(SECRET)]) },
    ]
    const out = scrubChunks([wire(frames)])

    assert.equal(out.length, wire(frames).length)
    assert.ok(!out.includes(SECRET))
    assert.deepEqual(out, expectedScrub(frames, VALUES))
    assert.ok(out.includes(`echo: Bearer ${MASK}!`))
  })

  test('frames cut at every byte and pair of bytes, headers included, come out the same', () => {
    assertEverySplit([
      text(`a ${SECRET} b`),
      { opcode: 0x2, payload: Buffer.from(`x${SECRET}`), lengthForm: 16 },
      ping(''),
      { opcode: 0x1, payload: Buffer.from(`${SECRET}${SECRET}`), lengthForm: 64 },
      text(''),
    ])
  })

  test('a value split across the frames of a fragmented message is masked, at every split', () => {
    for (let split = 1; split < SECRET.length; split++) {
      const frames = [
        text(`start ${SECRET.slice(0, split)}`, false),
        more(`${SECRET.slice(split)} end`),
        text('next'),
      ]
      const out = scrubChunks([wire(frames)])
      assert.deepEqual(out, expectedScrub(frames, VALUES), `split at ${split}`)
      assert.ok(!out.includes(SECRET.slice(0, split) + SECRET.slice(split)))
    }
  })

  test('a value spread over three fragments, with control frames between them, is masked', () => {
    assertEverySplit([
      text(`go ${SECRET.slice(0, 5)}`, false),
      ping('keepalive'),
      more(SECRET.slice(5, 9), false),
      more('', false),
      { opcode: 0xa, payload: Buffer.from('') },
      more(`${SECRET.slice(9)} done`),
    ])
  })

  test('a frame with a 64-bit length (70 000 bytes) is scrubbed in pieces', () => {
    const payload = Buffer.alloc(70_000, 'z')
    payload.write(SECRET, 0)
    payload.write(SECRET, 35_000)
    payload.write(SECRET, 70_000 - SECRET.length)
    const frames: TestFrame[] = [{ opcode: 0x2, payload }]
    const input = wire(frames)
    assert.equal(input.readUInt8(1), 127)

    const chunks = cutAt(input, [3, 9, 1000, 35_005, 35_010, 65_536, 70_000])
    const out = scrubChunks(chunks)
    assert.deepEqual(out, expectedScrub(frames, VALUES))
    assert.equal(out.subarray(10).toString().split(MASK).length, 4)
  })

  test('a complete message is never held back, even if it ends like the start of a value', () => {
    const scrubber = new FrameScrubber(VALUES)
    const frame = encodeFrame(text(`ends with ${SECRET.slice(0, 6)}`))
    assert.deepEqual(scrubber.push(frame), frame)
  })

  test('the tail of a fragment that could start a value waits for the next fragment', () => {
    const scrubber = new FrameScrubber(VALUES)
    const first = encodeFrame(text(`abc ${SECRET.slice(0, 4)}`, false))
    const control = encodeFrame(ping('p'))

    const sent = scrubber.push(Buffer.concat([first, control]))
    assert.deepEqual(sent, first.subarray(0, first.length - 4))
    const rest = scrubber.push(encodeFrame(more(SECRET.slice(4))))
    assert.deepEqual(
      Buffer.concat([sent, rest]),
      Buffer.concat([
        encodeFrame(text(`abc ${MASK.slice(0, 4)}`, false)),
        control,
        encodeFrame(more(MASK.slice(4))),
      ]),
    )
  })

  test('without any occurrence, bytes pass unchanged', () => {
    const frames = [text('hello'), { opcode: 0x2, payload: Buffer.alloc(300, 7) }, ping('x')]
    assert.deepEqual(scrubChunks([wire(frames)]), wire(frames))
  })
})

describe('FrameScrubber refuses framing a server must not send', () => {
  const cases: Array<[string, Buffer[], string]> = [
    [
      'a masked frame',
      [encodeFrame({ ...text('hi'), maskKey: Buffer.from([1, 2, 3, 4]) })],
      'WS_MASKED_FRAME',
    ],
    ['RSV1 without an extension', [encodeFrame({ ...text('hi'), rsv: 0x40 })], 'WS_RESERVED_BITS'],
    ['RSV3', [encodeFrame({ ...text('hi'), rsv: 0x10 })], 'WS_RESERVED_BITS'],
    ['an oversized ping', [encodeFrame(ping('p'.repeat(126)))], 'WS_CONTROL_TOO_LONG'],
    [
      'a fragmented close',
      [encodeFrame({ opcode: 0x8, payload: Buffer.alloc(2), fin: false })],
      'WS_FRAGMENTED_CONTROL',
    ],
    ['a continuation with no message', [encodeFrame(more('x'))], 'WS_UNEXPECTED_CONTINUATION'],
    [
      'a new message inside a fragmented one',
      [encodeFrame(text('a', false)), encodeFrame(text('b'))],
      'WS_EXPECTED_CONTINUATION',
    ],
    [
      'a 64-bit length with its top bit set',
      [Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1])],
      'WS_LENGTH_TOO_LARGE',
    ],
    [
      'a 64-bit length above 2^53',
      [Buffer.from([0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0])],
      'WS_LENGTH_TOO_LARGE',
    ],
  ]
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    cases.push([`opcode ${opcode}`, [Buffer.from([0x80 | opcode, 0])], 'WS_RESERVED_OPCODE'])
  }

  for (const [name, chunks, fault] of cases) {
    test(name, () => {
      const scrubber = new FrameScrubber(VALUES)
      assert.throws(
        () => chunks.forEach((chunk) => scrubber.push(chunk)),
        (error: unknown) => error instanceof FrameError && error.fault === fault,
      )
    })
  }

  test('a masked frame is refused from its first two bytes, before its length arrives', () => {
    const scrubber = new FrameScrubber(VALUES)
    assert.deepEqual(scrubber.push(Buffer.from([0x81])), Buffer.alloc(0))
    assert.throws(() => scrubber.push(Buffer.from([0xfe])), FrameError)
  })

  test('control frames piling up behind a held-back fragment tail are capped', () => {
    const scrubber = new FrameScrubber(VALUES)
    scrubber.push(encodeFrame(text(SECRET.slice(0, 3), false)))
    const pings = Buffer.concat(Array.from({ length: 64 }, () => encodeFrame(ping(''))))
    assert.deepEqual(scrubber.push(pings), Buffer.alloc(0))
    assert.throws(
      () => scrubber.push(encodeFrame(ping(''))),
      (error: unknown) => error instanceof FrameError && error.fault === 'WS_CONTROL_FLOOD',
    )
  })

  test('the cap counts only waiting control frames: a long fragmented message passes', () => {
    const frames: TestFrame[] = [text('go', false)]
    for (let i = 0; i < 200; i++) frames.push(more(SECRET.slice(0, 3), false), ping(''))
    frames.push(more('end'))
    assert.deepEqual(scrubChunks([wire(frames)]), expectedScrub(frames, VALUES))
  })

  test('the frames before a bad one were already sent, scrubbed', () => {
    const scrubber = new FrameScrubber(VALUES)
    const good = encodeFrame(text(SECRET))
    assert.deepEqual(scrubber.push(good), encodeFrame(text(MASK)))
    assert.throws(() => scrubber.push(Buffer.from([0x83, 0])), FrameError)
  })
})
