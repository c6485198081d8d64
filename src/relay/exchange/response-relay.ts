import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { ErrorCode } from '../../errors/codes.js'
import { ScrubStream, scrubHeaders } from '../../secrets/scrubber.js'
import { sendError } from '../http/error-response.js'
import { forwardableResponseHeaders } from '../http/headers.js'
import type { Exchange } from './exchange.js'

type Controller = Dispatcher.DispatchController

/**
 * Streams one upstream response back to the agent as it arrives (server-sent events included),
 * with backpressure both ways. When a credential was injected, every byte passes through a
 * scrubber first, so an upstream that echoes the request cannot hand the secret to the agent.
 */
export class ResponseRelay implements Dispatcher.DispatchHandler {
  #ex: Exchange
  #scrub: Buffer[]
  #scrubber: ScrubStream | null = null
  #done = false

  constructor(ex: Exchange, scrub: Buffer[]) {
    this.#ex = ex
    this.#scrub = scrub
  }

  onRequestStart(controller: Controller): void {
    // An agent that hangs up mid-response should not keep the upstream transfer going.
    this.#ex.res.once('close', () => {
      if (!this.#done) controller.abort(new Error('agent closed the connection'))
    })
  }

  onResponseStart(_controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return
    const out = forwardableResponseHeaders(headers)
    if (this.#scrub.length > 0) {
      scrubHeaders(
        out,
        this.#scrub.map((b) => b.toString()),
      )
      this.#scrubber = new ScrubStream(this.#scrub)
      this.#scrubber.pipe(this.#ex.res)
    }
    this.#ex.status = status
    this.#ex.res.writeHead(status, out)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#ex.bytesOut += chunk.length
    const sink = this.#scrubber ?? this.#ex.res
    if (sink.write(chunk)) return
    controller.pause()
    sink.once('drain', () => controller.resume())
  }

  onResponseEnd(): void {
    this.#done = true
    if (this.#scrubber) this.#scrubber.end()
    else this.#ex.res.end()
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#done = true
    const ex = this.#ex
    if (ex.res.destroyed) return
    ex.upstreamError = errorName(error)
    ex.code = upstreamCode(error)
    ex.status = ex.res.headersSent ? ex.status : statusFor(ex.code)
    sendError(ex.res, { code: ex.code, message: 'upstream failure', requestId: ex.id })
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL/

function errorName(error: Error): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}

function upstreamCode(error: Error): ErrorCode {
  const code = errorName(error)
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return 'TOLLGATE_UPSTREAM_TIMEOUT'
  if (TLS_CODES.test(code)) return 'TOLLGATE_UPSTREAM_TLS'
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'TOLLGATE_UPSTREAM_RESET'
  return 'TOLLGATE_UPSTREAM_CONNECT'
}

function statusFor(code: ErrorCode): number {
  return code === 'TOLLGATE_UPSTREAM_TIMEOUT' ? 504 : 502
}
