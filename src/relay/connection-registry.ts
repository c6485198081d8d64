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

/**
 * Open agent connections (keep-alive sockets and CONNECT tunnels) by the token that opened
 * them, so that revoking a token, or removing its agent from the config, can cut them at once
 * instead of waiting for the next request.
 */
export class ConnectionRegistry {
  #byToken = new Map<string, { agent: string; sockets: Set<Duplex> }>()
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
   * TOLLGATE_CONNECTION_LIMIT (429); a connection already known is not counted twice.
   */
  track(tokenId: string, agent: string, socket: Duplex | Socket, kind: ConnectionKind): void {
    let entry = this.#byToken.get(tokenId)
    if (entry?.sockets.has(socket)) return
    const counts = this.#admit(agent, kind)

    if (!entry) {
      entry = { agent, sockets: new Set() }
      this.#byToken.set(tokenId, entry)
    }
    entry.sockets.add(socket)
    this.#admission?.authenticated(socket)
    socket.once('close', () => {
      counts[kind]--
      if (counts.connection + counts.tunnel === 0) this.#perAgent.delete(agent)
      this.#forget(tokenId, socket)
    })
  }

  #admit(agent: string, kind: ConnectionKind): AgentCounts {
    const counts = this.#perAgent.get(agent) ?? { connection: 0, tunnel: 0 }
    const limits = this.#limits()
    const cap = kind === 'tunnel' ? limits.tunnelsPerAgent : limits.connectionsPerAgent
    if (counts[kind] >= cap) {
      throw new TollgateError('TOLLGATE_CONNECTION_LIMIT', `the agent already has ${cap} open`)
    }
    counts[kind]++
    this.#perAgent.set(agent, counts)
    return counts
  }

  /** Destroys every connection opened with one of these tokens; returns how many. */
  cutTokens(tokenIds: Iterable<string>): number {
    let cut = 0
    for (const id of tokenIds) {
      for (const socket of this.#byToken.get(id)?.sockets ?? []) {
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
