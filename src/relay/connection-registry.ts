import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * Open agent connections (keep-alive sockets and CONNECT tunnels) by the token that opened
 * them, so that revoking a token, or removing its agent from the config, can cut them at once
 * instead of waiting for the next request.
 */
export class ConnectionRegistry {
  #byToken = new Map<string, { agent: string; sockets: Set<Duplex> }>()

  track(tokenId: string, agent: string, socket: Duplex | Socket): void {
    let entry = this.#byToken.get(tokenId)
    if (!entry) {
      entry = { agent, sockets: new Set() }
      this.#byToken.set(tokenId, entry)
    }
    if (entry.sockets.has(socket)) return

    entry.sockets.add(socket)
    socket.once('close', () => this.#forget(tokenId, socket))
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
