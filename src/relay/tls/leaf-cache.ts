import { createSecureContext, type SecureContext } from 'node:tls'

import { DAY_MS } from './certificate-keys.js'
import type { IssuedLeaf } from './leaf-certificate.js'
import { leafHostKey } from './leaf-host.js'

/** What the cache needs from a CA; `CertificateAuthority` provides it. */
export interface LeafMinter {
  readonly certificatePem: string
  issueLeaf(host: string): Promise<IssuedLeaf>
}

/** Options for `LeafCache`. */
export interface LeafCacheOptions {
  /** How many hosts keep a ready TLS context; the least recently used goes first. */
  maxEntries?: number
  /** The clock that decides when a cached leaf is too close to expiry to serve. */
  now?: () => Date
}

interface CachedLeaf {
  readonly context: SecureContext
  readonly notAfter: Date
}

// A leaf is re-minted this long before it expires, so a long-running relay never serves one
// that a client with a slightly fast clock would reject.
const RENEW_BEFORE_MS = DAY_MS

/**
 * Per-host TLS server contexts for intercepted tunnels, minted on first use and kept in an LRU.
 * Minting a leaf costs milliseconds and a context another ~0.7 ms, so both are done once per
 * host. Concurrent requests for one host share a single mint; a failed mint is not cached.
 */
export class LeafCache {
  readonly #ca: LeafMinter
  readonly #maxEntries: number
  readonly #now: () => Date
  readonly #ready = new Map<string, CachedLeaf>()
  readonly #pending = new Map<string, Promise<CachedLeaf>>()
  #hits = 0
  #misses = 0

  constructor(ca: LeafMinter, options: LeafCacheOptions = {}) {
    this.#ca = ca
    this.#maxEntries = Math.max(1, options.maxEntries ?? 1000)
    this.#now = options.now ?? (() => new Date())
  }

  /**
   * The TLS context for `host` (a DNS name or IP literal, any case).
   *
   * @throws TollgateError `TOLLGATE_BAD_HOST` when `host` cannot be a certificate name.
   */
  async getSecureContext(host: string): Promise<SecureContext> {
    const key = leafHostKey(host)
    const ready = this.#takeFresh(key)
    if (ready) {
      this.#hits++
      return ready.context
    }

    const pending = this.#pending.get(key)
    if (pending) {
      this.#hits++
      return (await pending).context
    }

    this.#misses++
    return (await this.#mint(key)).context
  }

  /** Lookups answered without minting, including those that joined a mint in flight. */
  get hits(): number {
    return this.#hits
  }

  /** Lookups that had to mint a leaf. */
  get misses(): number {
    return this.#misses
  }

  /** Hosts with a ready context. */
  get size(): number {
    return this.#ready.size
  }

  #takeFresh(key: string): CachedLeaf | undefined {
    const leaf = this.#ready.get(key)
    if (!leaf) return undefined

    // Re-inserting moves the entry to the end of the Map's order: the most recently used.
    this.#ready.delete(key)
    if (leaf.notAfter.getTime() - this.#now().getTime() < RENEW_BEFORE_MS) return undefined

    this.#ready.set(key, leaf)
    return leaf
  }

  async #mint(key: string): Promise<CachedLeaf> {
    const minting = this.#createLeaf(key)
    this.#pending.set(key, minting)
    try {
      const leaf = await minting
      this.#remember(key, leaf)
      return leaf
    } finally {
      this.#pending.delete(key)
    }
  }

  async #createLeaf(key: string): Promise<CachedLeaf> {
    const leaf = await this.#ca.issueLeaf(key)

    // Sending the CA too costs ~500 bytes a handshake, but a client that fails to verify then
    // shows (openssl s_client, curl -v) which Tollgate CA it should have trusted.
    const cert = `${leaf.certPem}\n${this.#ca.certificatePem}`
    return { context: createSecureContext({ cert, key: leaf.keyPem }), notAfter: leaf.notAfter }
  }

  #remember(key: string, leaf: CachedLeaf): void {
    this.#ready.set(key, leaf)
    if (this.#ready.size <= this.#maxEntries) return

    const oldest = this.#ready.keys().next()
    if (!oldest.done) this.#ready.delete(oldest.value)
  }
}
