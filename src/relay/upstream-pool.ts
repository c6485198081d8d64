import type { Socket } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import type { DnsConfig, TimeoutsConfig, UpstreamConfig } from '../config/types.js'
import type { AddressAllowance } from './destination/allowance.js'
import { pinnedConnector } from './destination/pinned-connector.js'
import { RelaySelf } from './destination/relay-self.js'
import { ServerResolver, SystemResolver, type HostResolver } from './destination/resolver.js'
import { buildUpstreamCa } from './tls/upstream-trust.js'

/** The agents sharing one trust setting, one per address allowance. */
interface AgentGroup {
  caPem: string | null
  agents: Map<string, Agent>
}

export interface UpstreamPoolOptions {
  /** Resolver settings; by default the system resolver. The request path may switch them. */
  dns?: DnsConfig | null
  /** The machine's own addresses; by default read from its interfaces. */
  self?: RelaySelf
}

/**
 * Pooled keep-alive connections to upstreams. Every connection is opened by a pinned connector
 * that resolves the name, refuses non-public answers the allowing rule does not allow, and dials
 * the address it checked; a pooled connection was checked when it was opened.
 *
 * Agents are grouped by trust: one group for hosts trusted by the system roots, and one per
 * host with its own CA (system roots plus that CA), so the extra CA can never vouch for any
 * other host. Within a group there is one agent per address allowance, so a connection opened
 * under a broad allowance is never reused for a request whose rule allows less.
 */
export class UpstreamPool {
  #timeouts: TimeoutsConfig
  #default: AgentGroup
  #byHost = new Map<string, AgentGroup>()
  #self: RelaySelf
  #dns: DnsConfig | null = null
  #resolver: HostResolver = new SystemResolver()

  constructor(
    timeouts: TimeoutsConfig,
    upstreams: UpstreamConfig[],
    options: UpstreamPoolOptions = {},
  ) {
    this.#timeouts = timeouts
    this.#self = options.self ?? new RelaySelf()
    this.#default = { caPem: null, agents: new Map() }
    this.useDns(options.dns ?? null)
    this.configure(upstreams)
  }

  /** Applies a (re)loaded upstream list. Agents for hosts with their own CA are replaced. */
  configure(upstreams: UpstreamConfig[]): void {
    const old = this.#byHost
    this.#byHost = new Map()
    for (const upstream of upstreams) {
      if (!upstream.caPem) continue
      this.#byHost.set(upstream.host, { caPem: upstream.caPem, agents: new Map() })
    }
    for (const group of old.values()) closeGroup(group)
  }

  /** Switches the resolver when the DNS setting changed (a reload). */
  useDns(dns: DnsConfig | null): void {
    if (dns === this.#dns) return
    this.#dns = dns
    this.#resolver =
      dns === null || dns.servers.length === 0
        ? new SystemResolver()
        : new ServerResolver(dns.servers, this.#timeouts.connectMs)
  }

  /** The dispatcher for a canonical host under the allowing rule's address allowance. */
  dispatcherFor(host: string, allowance: AddressAllowance | null = null): Dispatcher {
    const group = this.#byHost.get(host) ?? this.#default
    const key = allowance?.key ?? ''
    return group.agents.get(key) ?? this.#addAgent(group, key, allowance)
  }

  /**
   * A raw TCP connection for an opaque tunnel, opened by the same pinned connector as pooled
   * ones: the name is resolved once, every answer checked against `allowance`, and exactly the
   * checked address dialled. Never pooled: the tunnel owns the socket.
   */
  connectRaw(host: string, port: number, allowance: AddressAllowance | null): Promise<Socket> {
    const connect = this.#connector(null, allowance)
    const target = { hostname: host, protocol: 'tcp:', port: String(port) }
    return new Promise((resolve, reject) => {
      connect(target, (error, socket) => (error === null ? resolve(socket) : reject(error)))
    })
  }

  get timeouts(): TimeoutsConfig {
    return this.#timeouts
  }

  async close(): Promise<void> {
    const groups = [this.#default, ...this.#byHost.values()]
    const agents = groups.flatMap((group) => [...group.agents.values()])
    await Promise.allSettled(agents.map((a) => a.close()))
  }

  #addAgent(group: AgentGroup, key: string, allowance: AddressAllowance | null): Agent {
    const agent = this.#createAgent(group.caPem, allowance)
    group.agents.set(key, agent)
    return agent
  }

  #createAgent(caPem: string | null, allowance: AddressAllowance | null): Agent {
    return new Agent({
      connect: this.#connector(caPem, allowance),
      headersTimeout: this.#timeouts.headersMs,
      bodyTimeout: this.#timeouts.bodyMs,
      keepAliveTimeout: 30_000,
      connections: 256,
      pipelining: 1,
    })
  }

  #connector(caPem: string | null, allowance: AddressAllowance | null) {
    return pinnedConnector({
      connect: {
        timeout: this.#timeouts.connectMs,
        rejectUnauthorized: true,
        ...(caPem ? { ca: buildUpstreamCa([caPem]) } : {}),
      },
      allowance,
      resolver: () => this.#resolver,
      self: this.#self,
      timeoutMs: this.#timeouts.connectMs,
    })
  }
}

function closeGroup(group: AgentGroup): void {
  for (const agent of group.agents.values()) void agent.close().catch(() => undefined)
}
