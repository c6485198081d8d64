/** Test fixtures: server frames built by hand, and the expected result of scrubbing them. */

export interface TestFrame {
  opcode: number
  payload: Buffer
  fin?: boolean
  /** Force a length form, to test the 16- and 64-bit encodings with small payloads. */
  lengthForm?: 7 | 16 | 64
  /** Extra bits of the first byte (RSV) and a mask key, for frames a server must not send. */
  rsv?: number
  maskKey?: Buffer
}

/** Encodes one frame as a server (or, with `maskKey`, a client) would send it. */
export function encodeFrame(frame: TestFrame): Buffer {
  const { payload } = frame
  const form = frame.lengthForm ?? (payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64)
  const first = (frame.fin === false ? 0 : 0x80) | (frame.rsv ?? 0) | frame.opcode
  const mask = frame.maskKey ? 0x80 : 0
  let header: Buffer
  if (form === 7) header = Buffer.from([first, mask | payload.length])
  else if (form === 16) {
    header = Buffer.alloc(4)
    header.writeUInt8(first, 0)
    header.writeUInt8(mask | 126, 1)
    header.writeUInt16BE(payload.length, 2)
  } else {
    header = Buffer.alloc(10)
    header.writeUInt8(first, 0)
    header.writeUInt8(mask | 127, 1)
    header.writeBigUInt64BE(BigInt(payload.length), 2)
  }
  if (!frame.maskKey) return Buffer.concat([header, payload])

  const key = frame.maskKey
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (key[i % 4] ?? 0)))
  return Buffer.concat([header, key, masked])
}

/**
 * Masks every occurrence of every value in `bytes` with `*`, the slow, obvious way, on a copy.
 * Values must not contain `*`.
 */
export function maskNaively(bytes: Buffer, values: Buffer[]): Buffer {
  const out = Buffer.from(bytes)
  for (const value of values) {
    for (let at = 0; at + value.length <= bytes.length; at++) {
      if (bytes.subarray(at, at + value.length).equals(value)) {
        out.fill(0x2a, at, at + value.length)
      }
    }
  }
  return out
}

const isControl = (opcode: number) => opcode >= 8

/**
 * The frames a correct scrubber sends for `frames`: the same headers, every control frame's
 * payload masked on its own and every message's payloads masked as one run of bytes.
 */
export function expectedScrub(frames: TestFrame[], values: Buffer[]): Buffer {
  const out = frames.map((frame) => ({ ...frame }))
  let message: number[] = []
  frames.forEach((frame, index) => {
    if (isControl(frame.opcode)) {
      const slot = out[index]
      if (slot) slot.payload = maskNaively(frame.payload, values)
      return
    }
    message.push(index)
    if (frame.fin === false) return

    const masked = maskNaively(
      Buffer.concat(message.map((i) => frames[i]?.payload ?? Buffer.alloc(0))),
      values,
    )
    let at = 0
    for (const i of message) {
      const slot = out[i]
      if (!slot) continue
      slot.payload = masked.subarray(at, at + slot.payload.length)
      at += slot.payload.length
    }
    message = []
  })
  return Buffer.concat(out.map(encodeFrame))
}

/** Cuts `bytes` at the given offsets (sorted, inside the buffer). */
export function cutAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const chunks: Buffer[] = []
  let from = 0
  for (const offset of offsets) {
    chunks.push(bytes.subarray(from, offset))
    from = offset
  }
  chunks.push(bytes.subarray(from))
  return chunks
}
