import { ERRORS, type ErrorCode } from './codes.js'

/**
 * An error with a stable code. `exposeMessage` says whether `message` may be shown to the agent;
 * when false, the agent sees the catalogue message for the code instead. Context goes in `cause`
 * and never into the message: messages must not carry secret values, tokens or full URLs.
 */
export class TollgateError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly exposeMessage: boolean

  constructor(
    code: ErrorCode,
    message?: string,
    options: { cause?: unknown; expose?: boolean } = {},
  ) {
    super(message ?? ERRORS[code].message, { cause: options.cause })
    this.name = 'TollgateError'
    this.code = code
    this.status = ERRORS[code].status
    this.exposeMessage = options.expose ?? true
  }

  /** The message safe to send to an untrusted client. */
  get publicMessage(): string {
    return this.exposeMessage ? this.message : ERRORS[this.code].message
  }
}

export function isTollgateError(value: unknown): value is TollgateError {
  return value instanceof TollgateError
}
