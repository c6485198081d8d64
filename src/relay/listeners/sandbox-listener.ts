import { listenOnPrivateSocket } from '../http/listen.js'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { Directory } from '../../identity/directory.js'
import type { Caller, CallerIdentifier } from '../identify.js'
import { createForwardProxy } from './forward-proxy.js'
import type { TunnelHandler } from './tunnel.js'
import type { ListenerDeps } from './listener-deps.js'

/** Which sandbox a listener serves, and the agent that sandbox runs as. */
export interface SandboxBinding {
  id: string
  agent: string
  /**
   * Names of policies that narrow the agent's for this sandbox (`tollgate run --policy`);
   * resolved against the current configuration at every decision.
   */
  overlay?: readonly string[]
}

/**
 * One sandbox's private forward proxy, on a UNIX socket that is bind-mounted into that box and
 * nowhere else. Whoever connects to it is the sandbox: the kernel's mount namespace is the
 * authentication, so requests carry no token. Every request re-checks that the sandbox is still
 * registered and its agent still in the current config; closing the listener cuts every
 * connection it ever accepted, tunnels and upgraded sockets included.
 */
export class SandboxListener {
  readonly binding: SandboxBinding
  #deps: ListenerDeps
  #server: Server
  #tunnels: TunnelHandler
  #sockets = new Set<Socket>()
  #isRegistered: () => boolean
  #open = true

  constructor(deps: ListenerDeps, binding: SandboxBinding, isRegistered: () => boolean) {
    this.binding = binding
    this.#isRegistered = isRegistered
    // A child logger puts the sandbox id on every line this listener's requests write,
    // the one decision line per request included.
    this.#deps = { ...deps, logger: deps.logger.child({ sandboxId: binding.id }) }
    const proxy = createForwardProxy(this.#deps, this.#identifier())
    this.#server = proxy.server
    this.#tunnels = proxy.tunnels
    this.#server.on('connection', (socket: Socket) => this.#remember(socket))
  }

  /** Listens on `path` (a stale socket file is replaced), readable by the owner only. */
  listen(path: string): Promise<void> {
    return listenOnPrivateSocket(this.#server, path)
  }

  /** Stops accepting and cuts every open connection at once: a stopped box has no way out. */
  close(): Promise<void> {
    this.#open = false
    this.#tunnels.close()
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#cutAll()
    return closed
  }

  /** Cuts the sandbox's connections when a reload removed its agent (or its owner). */
  cutIfAgentGone(directory: Directory): void {
    if (!directory.hasAgent(this.binding.agent)) this.#cutAll()
  }

  get openConnections(): number {
    return this.#sockets.size
  }

  #identifier(): CallerIdentifier {
    return {
      identify: () => this.#caller(),
      isLive: () => this.#isLive(),
      // Every socket is remembered when accepted (stopping the sandbox cuts them); the shared
      // registry also counts them against the agent's connection and tunnel caps.
      track: (caller, socket, kind) => {
        this.#deps.connections.track(this.#registryKey, caller.agent, socket, kind)
      },
    }
  }

  /** The sandbox's key in the connection registry, apart from every token id. */
  get #registryKey(): string {
    return `sandbox:${this.binding.id}`
  }

  #caller(): Caller {
    if (!this.#open || !this.#isRegistered()) {
      throw new TollgateError('TOLLGATE_AUTH_INVALID', 'this sandbox is no longer registered')
    }
    const identity = this.#deps.state.current.directory.resolveAgent(this.binding.agent)
    if (!identity) {
      throw new TollgateError('TOLLGATE_AUTH_INVALID', "the sandbox's agent is not in config")
    }
    const { overlay } = this.binding
    const caller = { ...identity, tokenId: null, sandboxId: this.binding.id }
    return overlay === undefined || overlay.length === 0 ? caller : { ...caller, overlay }
  }

  #isLive(): boolean {
    const { directory } = this.#deps.state.current
    return this.#open && this.#isRegistered() && directory.hasAgent(this.binding.agent)
  }

  #remember(socket: Socket): void {
    if (!this.#open) {
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
  }

  #cutAll(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
  }
}
