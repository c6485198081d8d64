import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP, type AddressInfo } from 'node:net'
import type { ListenConfig } from '../config/types.js'
import { ERRORS } from '../errors/codes.js'
import type { Logger } from '../observability/logger.js'
import type { RelayMetrics } from './metrics.js'
import { controlHostOf, isControlHost } from './control-host.js'
import { sendError } from '../relay/http/error-response.js'
import { listenOnAddress } from '../relay/http/listen.js'
import { RequestIdGenerator } from '../relay/exchange/request-id.js'

export interface ControlStatus {
  /** False once shutdown has begun, so load balancers stop sending traffic. */
  ready(): boolean
  configVersion(): string
}

export interface ControlOptions {
  logger: Logger
  /**
   * `server.control.hosts` of the configuration in force: asked on every request, so a
   * reload applies to the next one.
   */
  hosts(): readonly string[]
}

const HOST_REFUSED = 'TOLLGATE_CONTROL_HOST_REFUSED'

// A rebinding page can make the browser retry many times a second; one line a minute, with a
// count of the refusals left out, says it happened without flooding the log.
const REFUSAL_LOG_INTERVAL_MS = 60_000

/**
 * The operator-facing listener: `/healthz` for liveness and readiness, `/metrics` for
 * Prometheus. It serves no agent traffic and should stay on a private address. It answers only
 * requests whose `Host` names it (see `isControlHost`): without that check a web page could
 * rebind its own name to this address and read the metrics.
 */
export class ControlServer {
  #server: Server
  #metrics: RelayMetrics
  #status: ControlStatus
  #options: ControlOptions
  #ids = new RequestIdGenerator()
  /** The name the listener was bound by, when it was a name and not an address. */
  #listenName: string | null = null
  #nextRefusalLog = 0
  #refusalsNotLogged = 0

  constructor(metrics: RelayMetrics, status: ControlStatus, options: ControlOptions) {
    this.#metrics = metrics
    this.#status = status
    this.#options = options
    // Node would answer an HTTP/1.1 request without Host with a bare 400 of its own; the
    // request reaches the Host check instead and gets the JSON refusal.
    this.#server = createServer({ requireHostHeader: false }, (req, res) => this.#handle(req, res))
  }

  listen(at: ListenConfig): Promise<AddressInfo> {
    this.#listenName = isIP(at.host) === 0 ? at.host : null
    return listenOnAddress(this.#server, at)
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const host = controlHostOf(req)
    if (host === null || !isControlHost(host, this.#names())) {
      this.#refuse(req, res, host)
      return
    }

    const path = (req.url ?? '').split('?')[0]
    if (req.method === 'GET' && path === '/healthz') return this.#health(res)
    if (req.method === 'GET' && path === '/metrics') return this.#scrape(res)
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
  }

  #names(): readonly string[] {
    const hosts = this.#options.hosts()
    return this.#listenName === null ? hosts : [...hosts, this.#listenName]
  }

  #health(res: ServerResponse): void {
    const ready = this.#status.ready()
    const body = JSON.stringify({
      status: ready ? 'ok' : 'stopping',
      config_version: this.#status.configVersion(),
    })
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(body)
  }

  #scrape(res: ServerResponse): void {
    const { registry } = this.#metrics
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  }

  #refuse(req: IncomingMessage, res: ServerResponse, host: string | null): void {
    const requestId = this.#ids.next()
    this.#logRefusal(req, requestId, host)
    sendError(res, { code: HOST_REFUSED, message: ERRORS[HOST_REFUSED].message, requestId })
  }

  /**
   * `host` is the canonical form (a valid name or address) or null, never the raw header: what
   * the header held is the client's to choose, and the log is not where to echo it.
   */
  #logRefusal(req: IncomingMessage, requestId: string, host: string | null): void {
    const now = Date.now()
    if (now < this.#nextRefusalLog) {
      this.#refusalsNotLogged++
      return
    }

    const notLogged = this.#refusalsNotLogged
    this.#nextRefusalLog = now + REFUSAL_LOG_INTERVAL_MS
    this.#refusalsNotLogged = 0
    this.#options.logger.warn(
      {
        event: 'control.host_refused',
        requestId,
        host,
        client: req.socket.remoteAddress ?? null,
        code: HOST_REFUSED,
        notLogged,
      },
      'control request refused',
    )
  }
}
