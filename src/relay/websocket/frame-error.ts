/**
 * Why the relay stopped reading an upstream's WebSocket stream. The value is what the completion
 * audit event carries in `upstream_error`, so the names are stable.
 */
export type FrameFault =
  | 'WS_MASKED_FRAME'
  | 'WS_RESERVED_BITS'
  | 'WS_RESERVED_OPCODE'
  | 'WS_CONTROL_TOO_LONG'
  | 'WS_FRAGMENTED_CONTROL'
  | 'WS_UNEXPECTED_CONTINUATION'
  | 'WS_EXPECTED_CONTINUATION'
  | 'WS_LENGTH_TOO_LARGE'
  | 'WS_CONTROL_FLOOD'

/**
 * Framing an upstream must not send. The relay cannot scrub what it cannot frame, and an agent's
 * parser might read such bytes differently from the relay's, so the connection is closed.
 */
export class FrameError extends Error {
  readonly fault: FrameFault

  constructor(fault: FrameFault) {
    super(`invalid WebSocket framing from the upstream: ${fault}`)
    this.name = 'FrameError'
    this.fault = fault
  }
}

export function isFrameError(value: unknown): value is FrameError {
  return value instanceof FrameError
}
