import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ListenConfig } from '../config/types.js'
import type { RelayMetrics } from './metrics.js'
import { listenOnAddress } from '../relay/http/listen.js'

export interface ControlStatus {
  /** False once shutdown has begun, so load balancers stop sending traffic. */
  ready(): boolean
  configVersion(): string
}

/**
 * The operator-facing listener: `/healthz` for liveness and readiness, `/metrics` for
 * Prometheus. It serves no agent traffic and should stay on a private address.
 */
export class ControlServer {
  #server: Server

  constructor(metrics: RelayMetrics, status: ControlStatus) {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (req.method === 'GET' && path === '/healthz') {
        const ready = status.ready()
        const body = JSON.stringify({
          status: ready ? 'ok' : 'stopping',
          config_version: status.configVersion(),
        })
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(body)
        return
      }
      if (req.method === 'GET' && path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        )
        return
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
    })
  }

  listen(at: ListenConfig): Promise<AddressInfo> {
    return listenOnAddress(this.#server, at)
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}
