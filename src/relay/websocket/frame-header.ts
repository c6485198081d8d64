import { FrameError } from './frame-error.js'

/** RFC 6455 §5.2 opcodes the relay understands; every other value is reserved. */
export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const

/** Control frames carry at most this many payload bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125

/** The largest header a server frame can have: 2 bytes, then a 64-bit length, no mask key. */
export const MAX_SERVER_HEADER = 10

const FIN = 0x80
const RSV = 0x70
const MASK = 0x80
const LENGTH_16 = 126
const LENGTH_64 = 127
/** Lengths beyond 2^53 - 1 cannot be counted exactly in a JavaScript number. */
const MAX_HIGH_WORD = 0x1fffff

export interface FrameHeader {
  fin: boolean
  opcode: number
  /** Payload bytes that follow the header. */
  length: number
  /** Bytes the header takes on the wire. */
  size: number
}

export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0
}

/**
 * Reads the header of one frame sent by a server from the start of `bytes`; null while it is
 * still incomplete. Framing a server must not send throws a FrameError as soon as the first two
 * bytes show it, so a hostile upstream cannot park the relay on a half-sent bad header.
 *
 * Extensions are never negotiated on a scrubbed connection, so any RSV bit is an error.
 * Non-minimal length encodings are accepted: they are unambiguous, and RFC 6455 clients read
 * them the same way the relay does.
 */
export function readFrameHeader(bytes: Buffer): FrameHeader | null {
  if (bytes.length < 2) return null
  const first = bytes.readUInt8(0)
  const second = bytes.readUInt8(1)
  const fin = (first & FIN) !== 0
  const opcode = first & 0x0f
  const short = second & 0x7f
  checkFirstBytes(first, second, opcode, fin, short)

  const extra = short === LENGTH_16 ? 2 : short === LENGTH_64 ? 8 : 0
  if (bytes.length < 2 + extra) return null
  return { fin, opcode, length: lengthOf(bytes, short), size: 2 + extra }
}

function checkFirstBytes(
  first: number,
  second: number,
  opcode: number,
  fin: boolean,
  short: number,
) {
  if ((second & MASK) !== 0) throw new FrameError('WS_MASKED_FRAME')
  if ((first & RSV) !== 0) throw new FrameError('WS_RESERVED_BITS')
  if (!isKnownOpcode(opcode)) throw new FrameError('WS_RESERVED_OPCODE')
  if (!isControlOpcode(opcode)) return

  if (short > MAX_CONTROL_PAYLOAD) throw new FrameError('WS_CONTROL_TOO_LONG')
  if (!fin) throw new FrameError('WS_FRAGMENTED_CONTROL')
}

function isKnownOpcode(opcode: number): boolean {
  return opcode <= OPCODE.binary || (opcode >= OPCODE.close && opcode <= OPCODE.pong)
}

function lengthOf(bytes: Buffer, short: number): number {
  if (short === LENGTH_16) return bytes.readUInt16BE(2)
  if (short !== LENGTH_64) return short

  // The most significant bit must be 0 (RFC 6455 §5.2); anything near it is no real frame.
  const high = bytes.readUInt32BE(2)
  if (high > MAX_HIGH_WORD) throw new FrameError('WS_LENGTH_TOO_LARGE')
  return high * 2 ** 32 + bytes.readUInt32BE(6)
}
