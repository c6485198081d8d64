import { networkInterfaces } from 'node:os'
import { addressKey, parseIp, type IpAddress } from './ip-address.js'

/** How long a snapshot of the machine's addresses is trusted before it is taken again. */
const REFRESH_MS = 1000

/**
 * The addresses of this machine's interfaces. An agent pointed at the relay's own public
 * address would reach the relay's control listener or neighbours bound to 0.0.0.0, so such an
 * address is refused like loopback. The snapshot is refreshed at most once a second: reading
 * the interfaces is a system call, and a new upstream connection is the only caller.
 */
export class RelaySelf {
  #keys = new Set<string>()
  #takenAt = -Infinity
  readonly #read: () => readonly string[]

  constructor(read: () => readonly string[] = interfaceAddresses) {
    this.#read = read
  }

  has(ip: IpAddress): boolean {
    const now = performance.now()
    if (now - this.#takenAt > REFRESH_MS) this.#refresh(now)
    return this.#keys.has(addressKey(ip))
  }

  #refresh(now: number): void {
    const keys = new Set<string>()
    for (const text of this.#read()) {
      const ip = parseIp(text)
      if (ip !== null) keys.add(addressKey(ip))
    }
    this.#keys = keys
    this.#takenAt = now
  }
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((entry) => entry.address.split('%')[0] ?? ''),
  )
}
