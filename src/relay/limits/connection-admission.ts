import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { LimitsConfig } from '../../config/types.js'
import { addressGroup } from './address-group.js'
import type { ConnectionCounts, ShedReason } from './limit-metrics.js'

/**
 * How long a connection refused by a cap may stay open so that, if its request arrives at once,
 * it learns why (503 TOLLGATE_OVERLOADED) instead of seeing a bare reset.
 */
const REFUSAL_GRACE_MS = 1000

/** How many refused connections may wait out that grace at once; the rest are closed at once. */
const MAX_REFUSED_WAITING = 64

/**
 * Admission of client connections, before anyone knows who is calling. Three caps:
 *
 * - the process holds at most `connections` sockets on all listeners together;
 * - at most `unauthenticatedPerAddress` of them from one source may still be waiting for a
 *   request with a valid token (a new one past that is refused);
 * - at most `unauthenticatedConnections` may be waiting in all. When that is full the socket
 *   that has waited longest is closed to make room: a real client sends its token with its
 *   first request and leaves the set within milliseconds, so the oldest waiters are the idle
 *   sockets of a flood, and a newcomer still gets in.
 *
 * A UNIX-socket connection (a sandbox's private listener) counts towards the process cap only:
 * the kernel already said who it is.
 */
export class ConnectionAdmission implements ConnectionCounts {
  #limits: () => LimitsConfig
  #onShed: (reason: ShedReason) => void
  #open = 0
  /** Sockets without a valid token yet, oldest first, with their address group. */
  #waiting = new Map<Duplex, string>()
  #perGroup = new Map<string, number>()
  #refused = new WeakSet<Duplex>()
  #refusedWaiting = 0

  /** @param limits read on every connection, so a reload changes the caps at once. */
  constructor(limits: () => LimitsConfig, onShed: (reason: ShedReason) => void) {
    this.#limits = limits
    this.#onShed = onShed
  }

  /** Counts a newly accepted socket, or refuses it when a cap is full. */
  admit(socket: Socket): void {
    const limits = this.#limits()
    if (this.#open >= limits.connections) return this.#refuse(socket, 'process_cap')
    const group = socket.remoteAddress === undefined ? null : addressGroup(socket.remoteAddress)
    if (group !== null && (this.#perGroup.get(group) ?? 0) >= limits.unauthenticatedPerAddress) {
      return this.#refuse(socket, 'address_cap')
    }

    this.#open++
    socket.once('close', () => {
      this.#open--
      this.authenticated(socket)
    })
    if (group === null) return
    if (this.#waiting.size >= limits.unauthenticatedConnections) this.#evictOldest()
    this.#waiting.set(socket, group)
    this.#perGroup.set(group, (this.#perGroup.get(group) ?? 0) + 1)
  }

  /** The socket carried a request with a valid token: it no longer counts as waiting. */
  authenticated(socket: Duplex): void {
    const group = this.#waiting.get(socket)
    if (group === undefined) return
    this.#waiting.delete(socket)
    const left = (this.#perGroup.get(group) ?? 1) - 1
    if (left === 0) this.#perGroup.delete(group)
    else this.#perGroup.set(group, left)
  }

  /** Whether the socket was refused by a cap and any request on it must be answered 503. */
  isRefused(socket: Duplex): boolean {
    return this.#refused.has(socket)
  }

  get open(): number {
    return this.#open
  }

  get unauthenticated(): number {
    return this.#waiting.size
  }

  #evictOldest(): void {
    const oldest = this.#waiting.keys().next().value
    if (oldest === undefined) return
    this.authenticated(oldest)
    oldest.destroy()
    this.#onShed('evicted')
  }

  #refuse(socket: Socket, reason: ShedReason): void {
    this.#onShed(reason)
    if (this.#refusedWaiting >= MAX_REFUSED_WAITING) {
      socket.destroy()
      return
    }
    this.#refused.add(socket)
    this.#refusedWaiting++
    const timer = setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS)
    socket.once('close', () => {
      this.#refusedWaiting--
      clearTimeout(timer)
    })
  }
}
