import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { LimitsConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'
import type { ConnectionAdmission } from './limits/connection-admission.js'

/** A plain client connection, or one that became a CONNECT tunnel. */
export type ConnectionKind = 'connection' | 'tunnel'

interface AgentCounts {
  connection: number
  tunnel: number
}

/** One tracked socket: what it counts as now, and the agent's counts it counts in. */
interface SocketState {
  kind: ConnectionKind
  counts: AgentCounts
}

/**
 * Open agent connections (keep-alive sockets and CONNECT tunnels) by the token that opened
 * them, so that revoking a token, or removing its agent from the config, can cut them at once
 * instead of waiting for the next request.
 */
export class ConnectionRegistry {
  #byToken = new Map<string, { agent: string; sockets: Map<Duplex, SocketState> }>()
  #perAgent = new Map<string, AgentCounts>()
  #limits: () => LimitsConfig
  #admission: ConnectionAdmission | null

  /**
   * @param limits read on every new connection, so a reload changes them at once.
   * @param admission told when a connection proves its caller, so it stops counting as
   *   unauthenticated.
   */
  constructor(limits: () => LimitsConfig, admission: ConnectionAdmission | null = null) {
    this.#limits = limits
    this.#admission = admission
  }

  /**
   * Remembers a connection of an agent. A new one past the agent's cap is refused with
   * TOLLGATE_CONNECTION_LIMIT (429); a connection already known is not counted twice, but one
   * that turns into a tunnel (a CONNECT after plain requests) is held to the tunnel cap.
   */
  track(tokenId: string, agent: string, socket: Duplex | Socket, kind: ConnectionKind): void {
    let entry = this.#byToken.get(tokenId)
    const known = entry?.sockets.get(socket)
    if (known) {
      if (kind === 'tunnel' && known.kind === 'connection') this.#becomeTunnel(known)
      return
    }
    const state: SocketState = { kind, counts: this.#admit(agent, kind) }

    if (!entry) {
      entry = { agent, sockets: new Map() }
      this.#byToken.set(tokenId, entry)
    }
    entry.sockets.set(socket, state)
    this.#admission?.authenticated(socket)
    socket.once('close', () => {
      // Whatever the socket counts as when it closes: it may have become a tunnel meanwhile.
      state.counts[state.kind]--
      if (state.counts.connection + state.counts.tunnel === 0) this.#perAgent.delete(agent)
      this.#forget(tokenId, socket)
    })
  }

  #admit(agent: string, kind: ConnectionKind): AgentCounts {
    const counts = this.#perAgent.get(agent) ?? { connection: 0, tunnel: 0 }
    this.#requireRoom(counts, kind)
    counts[kind]++
    this.#perAgent.set(agent, counts)
    return counts
  }

  // Counted as a tunnel only from now on: it stops counting as a plain connection, and the
  // CONNECT is refused if the agent's tunnels are already at their cap.
  #becomeTunnel(state: SocketState): void {
    this.#requireRoom(state.counts, 'tunnel')
    state.counts.connection--
    state.counts.tunnel++
    state.kind = 'tunnel'
  }

  #requireRoom(counts: AgentCounts, kind: ConnectionKind): void {
    const limits = this.#limits()
    const cap = kind === 'tunnel' ? limits.tunnelsPerAgent : limits.connectionsPerAgent
    if (counts[kind] >= cap) {
      throw new TollgateError('TOLLGATE_CONNECTION_LIMIT', `the agent already has ${cap} open`)
    }
  }

  /** Destroys every connection opened with one of these tokens; returns how many. */
  cutTokens(tokenIds: Iterable<string>): number {
    let cut = 0
    for (const id of tokenIds) {
      for (const socket of this.#byToken.get(id)?.sockets.keys() ?? []) {
        socket.destroy()
        cut++
      }
    }
    return cut
  }

  /** Destroys connections whose agent no longer passes `isKnown` (e.g. after a reload). */
  cutAgents(isKnown: (agent: string) => boolean): number {
    const stale = [...this.#byToken].filter(([, e]) => !isKnown(e.agent)).map(([id]) => id)
    return this.cutTokens(stale)
  }

  /** Destroys every tracked connection (the end of a graceful shutdown). */
  cutAll(): number {
    return this.cutTokens([...this.#byToken.keys()])
  }

  get size(): number {
    let total = 0
    for (const entry of this.#byToken.values()) total += entry.sockets.size
    return total
  }

  #forget(tokenId: string, socket: Duplex): void {
    const entry = this.#byToken.get(tokenId)
    if (!entry) return
    entry.sockets.delete(socket)
    if (entry.sockets.size === 0) this.#byToken.delete(tokenId)
  }
}
