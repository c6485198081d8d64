import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ListenConfig, LoadedConfig } from '../config/types.js'
import { ConnectionRegistry } from './connection-registry.js'
import { RequestIdGenerator } from './exchange/request-id.js'
import type { RelayDeps } from './exchange/exchange.js'
import { handleForwardRequest, identifyForward } from './listeners/forward-proxy.js'
import type { ListenerDeps } from './listeners/listener-deps.js'
import { handleReverseRequest, identifyReverse } from './listeners/reverse-proxy.js'
import { handleUpgrade } from './listeners/upgrade.js'
import { handleClientError } from './listeners/client-error.js'
import type { Exchange } from './exchange/exchange.js'
import { httpServerOptions } from './listeners/server-options.js'
import { TunnelHandler } from './listeners/tunnel.js'
import { buildRelayState } from './relay-state.js'
import type { LeafCache } from './tls/leaf-cache.js'

export interface RelayAddresses {
  proxy: AddressInfo
  reverse: AddressInfo | null
}

/** How often the relay looks for tokens revoked by another process (the CLI). */
const REVOCATION_POLL_MS = 250

/**
 * The relay's listeners and the background work that keeps them honest: the forward proxy
 * (absolute-form and CONNECT), the reverse routes, and the revocation watcher that cuts open
 * connections of revoked tokens.
 */
export class Relay {
  #deps: ListenerDeps
  #proxy: Server
  #reverse: Server | null = null
  #tunnels: TunnelHandler
  #revocationSeq = 0
  #poller: NodeJS.Timeout | null = null

  constructor(deps: RelayDeps, leaves: LeafCache) {
    this.#deps = {
      ...deps,
      leaves,
      ids: new RequestIdGenerator(),
      connections: new ConnectionRegistry(),
    }
    this.#tunnels = new TunnelHandler(this.#deps)
    this.#proxy = this.#createProxyServer()
  }

  async start(proxy: ListenConfig, reverse: ListenConfig | null): Promise<RelayAddresses> {
    this.#revocationSeq = this.#deps.tokens.revocationsSince(0).seq
    this.#poller = setInterval(() => this.checkStateChanges(), REVOCATION_POLL_MS)
    this.#poller.unref()

    const proxyAddress = await listen(this.#proxy, proxy)
    if (!reverse) return { proxy: proxyAddress, reverse: null }
    this.#reverse = this.#createReverseServer()
    return { proxy: proxyAddress, reverse: await listen(this.#reverse, reverse) }
  }

  /** Swaps in a new configuration; connections of agents it no longer knows are cut. */
  applyConfig(loaded: LoadedConfig): void {
    const next = buildRelayState(loaded)
    this.#deps.state.replace(next)
    this.#deps.upstreams.configure(loaded.config.upstreams)
    this.#deps.connections.cutAgents((agent) => next.directory.hasAgent(agent))
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs: number): Promise<void> {
    if (this.#poller) clearInterval(this.#poller)
    const servers = [this.#proxy, this.#reverse].filter((s): s is Server => s !== null)
    this.#tunnels.close()
    const closed = Promise.all(servers.map((s) => closeServer(s)))
    for (const server of servers) server.closeIdleConnections()

    // Tunnels and joined WebSockets are not the servers' connections any more: cut them too.
    const timer = setTimeout(() => {
      servers.forEach((s) => s.closeAllConnections())
      this.#deps.connections.cutAll()
    }, graceMs)
    await closed
    clearTimeout(timer)
    this.#deps.connections.cutAll()
  }

  get openConnections(): number {
    return this.#deps.connections.size
  }

  /** Looks at once for what another process changed (revoked tokens, rotated secrets). */
  checkStateChanges(): void {
    this.#cutRevoked()
    this.#refreshSecrets()
  }

  // Secrets are cached on the request path; a changed fingerprint (the CLI set or deleted one)
  // drops the cache, so a rotated secret is used within one poll, or at once when signalled.
  #refreshSecrets(): void {
    try {
      this.#deps.secrets.refreshIfChanged()
    } catch (err) {
      this.#deps.logger.error({ err }, 'secret change check failed')
    }
  }

  #cutRevoked(): void {
    try {
      const { ids, seq } = this.#deps.tokens.revocationsSince(this.#revocationSeq)
      this.#revocationSeq = seq
      if (ids.length === 0) return
      this.#deps.tokens.forget(ids)
      this.#deps.connections.cutTokens(ids)
    } catch (err) {
      this.#deps.logger.error({ err }, 'revocation check failed')
    }
  }

  #createProxyServer(): Server {
    const server = createServer(httpServerOptions(this.#deps.upstreams.timeouts))
    server.maxHeadersCount = 0
    server.on('request', (req, res) => handleForwardRequest(this.#deps, req, res))
    server.on('checkContinue', (req, res) => handleForwardRequest(this.#deps, req, res))
    server.on('connect', (req, socket, head) => this.#tunnels.handleConnect(req, socket, head))
    server.on('clientError', (error, socket) => handleClientError(this.#deps, error, socket))
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const identify = (ex: Exchange) => identifyForward(this.#deps, ex)
      handleUpgrade(this.#deps, 'forward', identify, req, socket, head)
    })
    return server
  }

  #createReverseServer(): Server {
    const server = createServer(httpServerOptions(this.#deps.upstreams.timeouts))
    server.maxHeadersCount = 0
    server.on('request', (req, res) => handleReverseRequest(this.#deps, req, res))
    server.on('clientError', (error, socket) => handleClientError(this.#deps, error, socket))
    server.on('checkContinue', (req, res) => handleReverseRequest(this.#deps, req, res))
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const identify = (ex: Exchange) => identifyReverse(this.#deps, ex)
      handleUpgrade(this.#deps, 'reverse', identify, req, socket, head)
    })
    return server
  }
}

function listen(server: Server, at: ListenConfig): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}
