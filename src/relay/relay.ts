import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ListenConfig, LoadedConfig } from '../config/types.js'
import { ConnectionRegistry } from './connection-registry.js'
import { RelayLimits } from './limits/relay-limits.js'
import { recordRefusalSummary } from './limits/refusal-summary.js'
import type { RefusalSummary } from './limits/unauthenticated-audit.js'
import { RequestIdGenerator } from './exchange/request-id.js'
import type { RelayDeps } from './exchange/exchange.js'
import { createForwardProxy } from './listeners/forward-proxy.js'
import type { ListenerDeps } from './listeners/listener-deps.js'
import { handleReverseRequest, identifyReverse } from './listeners/reverse-proxy.js'
import { handleUpgrade } from './listeners/upgrade.js'
import { handleClientError, refuseMisplacedConnect } from './listeners/client-error.js'
import { listenOnAddress } from './http/listen.js'
import type { Exchange } from './exchange/exchange.js'
import { httpServerOptions } from './listeners/server-options.js'
import type { TunnelHandler } from './listeners/tunnel.js'
import { SandboxListener, type SandboxBinding } from './listeners/sandbox-listener.js'
import { tokenIdentifier } from './identify.js'
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
 * (absolute-form and CONNECT), the reverse routes, one private listener per sandbox, and the
 * revocation watcher that cuts open connections of revoked tokens.
 */
export class Relay {
  #deps: ListenerDeps
  #proxy: Server
  #reverse: Server | null = null
  #tunnels: TunnelHandler
  #sandboxes = new Map<string, SandboxListener>()
  #revocationSeq = 0
  #poller: NodeJS.Timeout | null = null

  constructor(deps: RelayDeps, leaves: LeafCache) {
    const config = () => deps.state.current.loaded.config
    const report = (summary: RefusalSummary) => recordRefusalSummary(deps, summary)
    const limits = new RelayLimits(config, deps.upstreams.timeouts, deps.metrics.registry, report)
    this.#deps = {
      ...deps,
      leaves,
      ids: new RequestIdGenerator(),
      connections: new ConnectionRegistry(() => config().server.limits, limits.admission),
      limits,
    }
    const proxy = createForwardProxy(this.#deps, tokenIdentifier(this.#deps))
    this.#proxy = proxy.server
    this.#tunnels = proxy.tunnels
  }

  async start(proxy: ListenConfig, reverse: ListenConfig | null): Promise<RelayAddresses> {
    this.#revocationSeq = this.#deps.tokens.revocationsSince(0).seq
    this.#poller = setInterval(() => this.checkStateChanges(), REVOCATION_POLL_MS)
    this.#poller.unref()

    const proxyAddress = await listenOnAddress(this.#proxy, proxy)
    if (!reverse) return { proxy: proxyAddress, reverse: null }
    this.#reverse = this.#createReverseServer()
    return { proxy: proxyAddress, reverse: await listenOnAddress(this.#reverse, reverse) }
  }

  /** Swaps in a new configuration; connections of agents it no longer knows are cut. */
  applyConfig(loaded: LoadedConfig): void {
    const next = buildRelayState(loaded)
    this.#deps.state.replace(next)
    this.#deps.upstreams.configure(loaded.config.upstreams)
    this.#deps.upstreams.useDns(loaded.config.server.dns ?? null)
    this.#deps.connections.cutAgents((agent) => next.directory.hasAgent(agent))
    for (const sandbox of this.#sandboxes.values()) sandbox.cutIfAgentGone(next.directory)
  }

  /**
   * Opens a sandbox's private listener on the UNIX socket `path`. `isRegistered` is asked on
   * every request, so a sandbox the control plane dropped is refused even before its listener
   * is closed.
   */
  async openSandbox(
    binding: SandboxBinding,
    path: string,
    isRegistered: () => boolean,
  ): Promise<void> {
    if (this.#sandboxes.has(binding.id)) throw new Error(`sandbox ${binding.id} is already open`)
    const listener = new SandboxListener(this.#deps, binding, isRegistered)
    this.#sandboxes.set(binding.id, listener)
    try {
      await listener.listen(path)
    } catch (error) {
      this.#sandboxes.delete(binding.id)
      throw error
    }
  }

  /** Closes a sandbox's listener and cuts its connections; false if it was not open. */
  async closeSandbox(id: string): Promise<boolean> {
    const listener = this.#sandboxes.get(id)
    if (!listener) return false
    this.#sandboxes.delete(id)
    await listener.close()
    return true
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs: number): Promise<void> {
    if (this.#poller) clearInterval(this.#poller)
    // Boxes lose their way out first: nothing in a sandbox outlives the relay's decision path.
    await Promise.all([...this.#sandboxes.keys()].map((id) => this.closeSandbox(id)))
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
    // After the listeners, before the service records relay.stopped and closes the trail.
    this.#deps.limits.close()
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

  #createReverseServer(): Server {
    const server = createServer(httpServerOptions(this.#deps.upstreams.timeouts))
    server.maxHeadersCount = 0
    server.on('connection', (socket: Socket) => this.#deps.limits.admitConnection(socket))
    server.on('request', (req, res) => handleReverseRequest(this.#deps, req, res))
    server.on('clientError', (error, socket) =>
      handleClientError(this.#deps, 'reverse', error, socket),
    )
    server.on('checkContinue', (req, res) => handleReverseRequest(this.#deps, req, res))
    // Node would answer other expectations with a bare 417 and drop a CONNECT without a word;
    // the relay answers both itself, with its JSON error and an audit event.
    server.on('checkExpectation', (req, res) => handleReverseRequest(this.#deps, req, res))
    server.on('connect', (req: IncomingMessage, socket: Duplex) =>
      refuseMisplacedConnect(this.#deps, 'reverse', req, socket, null),
    )
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const identify = (ex: Exchange) => identifyReverse(this.#deps, ex)
      handleUpgrade(this.#deps, 'reverse', identify, req, socket, head)
    })
    return server
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}
