import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { ErrorCode } from '../../errors/codes.js'
import { Scrubber, scrubHeaders } from '../../secrets/scrubber.js'
import { sendError } from '../http/error-response.js'
import { forwardableResponseHeaders, type HeaderMap } from '../http/headers.js'
import type { ServerResponse } from 'node:http'
import type { Transform } from 'node:stream'
import { contentCodingOf, decoderFor } from '../http/content-coding.js'
import { ERRORS } from '../../errors/codes.js'
import { TollgateError, isTollgateError } from '../../errors/tollgate-error.js'
import { refusedDestination } from '../destination/destination-check.js'
import type { Exchange } from './exchange.js'

type Controller = Dispatcher.DispatchController

/**
 * A decoded body that has grown past this many bytes is also cut when it is more than
 * `MAX_EXPANSION` times the compressed bytes received so far. Deflate (gzip) cannot expand more
 * than 1032 times, so this never fires for it: it stops a brotli body built to expand (64 MiB
 * of zeros is 102 bytes of brotli) long before `decodedResponse`. Real text stays far below.
 */
const EXPANSION_CHECK_BYTES = 16 * 1024 * 1024
const MAX_EXPANSION = 2000

/** What the completion event's `upstream_error` says when a decoded body is cut. */
export const DECODED_OVER_LIMIT = 'decoded body over limit'

/** The little of a writable stream the relay uses, so a scrubber can stand in for one. */
interface Sink {
  write(chunk: Buffer): boolean
  end(): void
  once(event: 'drain', listener: () => void): unknown
}

/**
 * The response, behind a scrubber: synchronous, because a Transform stream per response costs
 * more than everything else the relay does for a request.
 */
class ScrubbedResponse implements Sink {
  readonly #res: ServerResponse
  readonly #scrubber: Scrubber

  constructor(res: ServerResponse, scrubber: Scrubber) {
    this.#res = res
    this.#scrubber = scrubber
  }

  write(chunk: Buffer): boolean {
    const out = this.#scrubber.push(chunk)
    return out.length === 0 || this.#res.write(out)
  }

  end(): void {
    this.#res.end(this.#scrubber.end())
  }

  once(event: 'drain', listener: () => void): this {
    this.#res.once(event, listener)
    return this
  }

  on(event: 'drain', listener: () => void): this {
    this.#res.on(event, listener)
    return this
  }
}

/**
 * Streams one upstream response back to the agent as it arrives (server-sent events included),
 * with backpressure both ways. When a credential was injected, every byte passes through a
 * scrubber first, so an upstream that echoes the request cannot hand the secret to the agent.
 */
export class ResponseRelay implements Dispatcher.DispatchHandler {
  #ex: Exchange
  #scrub: readonly string[]
  #decodedLimit: number
  /** Where upstream bytes go: the response itself, or the decode-and-scrub chain in front of it. */
  #sink: Sink | null = null
  #done = false

  /** `decodedLimit`: most bytes a compressed response may decode to (see `#startScrubbing`). */
  constructor(ex: Exchange, scrub: readonly string[], decodedLimit: number) {
    this.#ex = ex
    this.#scrub = scrub
    this.#decodedLimit = decodedLimit
  }

  onRequestStart(controller: Controller): void {
    // An agent that hangs up mid-response should not keep the upstream transfer going.
    this.#ex.res.once('close', () => {
      if (!this.#done) controller.abort(new Error('agent closed the connection'))
    })
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return
    const out = forwardableResponseHeaders(headers)
    this.#sink = this.#ex.res
    if (this.#scrub.length > 0 && !this.#startScrubbing(controller, out)) return
    this.#ex.status = status
    this.#ex.res.writeHead(status, out)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#ex.bytesOut += chunk.length
    const sink = this.#sink
    if (!sink || sink.write(chunk)) return
    controller.pause()
    sink.once('drain', () => controller.resume())
  }

  onResponseEnd(): void {
    this.#done = true
    this.#sink?.end()
  }

  /**
   * Puts the scrubber in front of the response. A compressed body is decoded first (and sent
   * decoded), because the injected value can only be found in plain bytes; an encoding the
   * relay cannot decode is refused rather than passed on unscrubbed. A small compressed body
   * can decode to gigabytes, so the decoded bytes are counted and the response is cut past
   * `server.limits.decodedResponse` (or an expansion no real body has).
   */
  #startScrubbing(controller: Controller, out: HeaderMap): boolean {
    scrubHeaders(out, this.#scrub)
    const decoder = decoderOf(out['content-encoding'])
    if (decoder === undefined) {
      controller.abort(new TollgateError('TOLLGATE_UPSTREAM_ENCODING'))
      return false
    }

    const scrubbed = new ScrubbedResponse(this.#ex.res, new Scrubber(this.#scrub))
    if (decoder === null) {
      this.#sink = scrubbed
      return true
    }
    delete out['content-encoding']
    delete out['content-length']
    decoder.on('error', () => this.#ex.res.destroy())
    let decoded = 0
    decoder.on('data', (chunk: Buffer) => {
      decoded += chunk.length
      if (this.#isOverLimit(decoded)) this.#cutDecoded(controller, decoder)
      else if (!scrubbed.write(chunk)) decoder.pause()
    })
    scrubbed.on('drain', () => decoder.resume())
    decoder.on('end', () => scrubbed.end())
    this.#sink = decoder
    return true
  }

  #isOverLimit(decoded: number): boolean {
    if (decoded > this.#decodedLimit) return true
    return decoded > EXPANSION_CHECK_BYTES && decoded > MAX_EXPANSION * this.#ex.bytesOut
  }

  /**
   * The head is already sent: the agent sees the connection cut, the record says why. The cut
   * is made here rather than left to `onResponseError`, because a small bomb has often arrived
   * whole before it decodes past the limit, and aborting a finished response reports nothing.
   */
  #cutDecoded(controller: Controller, decoder: Transform): void {
    decoder.destroy()
    this.#ex.upstreamError = DECODED_OVER_LIMIT
    this.#ex.code = 'TOLLGATE_RESPONSE_TOO_LARGE'
    this.#ex.res.destroy()
    if (!this.#done) controller.abort(new TollgateError('TOLLGATE_RESPONSE_TOO_LARGE'))
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#done = true
    const ex = this.#ex
    if (ex.res.destroyed) return
    // A reason recorded where the relay itself aborted (a cut decoded body) is the precise one.
    ex.upstreamError ??= upstreamErrorDetail(error)
    ex.code = upstreamCode(error)
    ex.status = ex.res.headersSent ? ex.status : statusFor(ex.code)
    sendError(ex.res, {
      code: ex.code,
      message: isTollgateError(error) ? error.publicMessage : 'upstream failure',
      requestId: ex.id,
      rule: ex.decision?.rule?.id ?? null,
    })
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL/

/** An error's code where it has one (`ECONNRESET`, `ERR_SSL_…`), else its name. */
export function errorName(error: Error): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}

/**
 * What went wrong, for the audit trail: the error's code, and for a refused destination the
 * address and what it is (`loopback 127.0.0.1`), which the agent is not told.
 */
export function upstreamErrorDetail(error: Error): string {
  const refused = refusedDestination(error)
  return refused === null ? errorName(error) : `${refused.kind} ${refused.address}`
}

export function upstreamCode(error: Error): ErrorCode {
  if (isTollgateError(error)) return error.code
  const code = errorName(error)
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return 'TOLLGATE_UPSTREAM_TIMEOUT'
  if (TLS_CODES.test(code)) return 'TOLLGATE_UPSTREAM_TLS'
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'TOLLGATE_UPSTREAM_RESET'
  return 'TOLLGATE_UPSTREAM_CONNECT'
}

function statusFor(code: ErrorCode): number {
  return ERRORS[code].status
}

/** null: nothing to decode; undefined: an encoding the relay cannot decode. */
function decoderOf(value: string | string[] | undefined): Transform | null | undefined {
  const coding = contentCodingOf(value)
  return coding ? decoderFor(coding) : coding
}
