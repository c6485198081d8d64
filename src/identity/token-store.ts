import type { Statement } from 'better-sqlite3'
import type { Database } from '../store/database.js'
import { TollgateError } from '../errors/tollgate-error.js'
import { generateToken, generateTokenId, hashToken, isTokenShaped } from './token-format.js'

export interface TokenRecord {
  id: string
  agent: string
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
  note: string | null
}

export interface IssuedToken {
  record: TokenRecord
  /** The token itself. Shown once; only its hash is kept. */
  token: string
}

interface TokenRow {
  id: string
  agent: string
  created_at: number
  expires_at: number
  revoked_at: number | null
  note: string | null
}

/** Longest lifetime a token may be given: long-lived agent credentials are what we replace. */
export const MAX_TOKEN_TTL_MS = 366 * 24 * 3600 * 1000

/** Token-to-hash memo entries before the memo starts over. */
const MAX_REMEMBERED_HASHES = 10_000

/**
 * Agent tokens in the store. The CLI issues and revokes; the running relay verifies on every
 * request and polls `revocationsSince` so that a revoke from another process also cuts open
 * tunnels and keep-alive connections.
 */
export class TokenStore {
  #db: Database
  #now: () => number
  #byHash: Statement<[string], TokenRow>
  #byId: Statement<[string], TokenRow>
  /** Rows already read, by hash and by id; only when the owner keeps them fresh (`forget`). */
  #cache: { byHash: Map<string, TokenRow>; byId: Map<string, TokenRow> } | null
  /**
   * Hashes of tokens that verified, by token: every request presents its token again, and
   * hashing it each time is a measurable share of the relay's per-request work. Bounded, and
   * only kept alongside the row cache, whose `forget` keeps revocation exact.
   */
  #hashes: Map<string, string> | null

  /**
   * @param options.cache keep verified tokens in memory. Only for a process that calls
   * `forget` with every revocation it sees (the relay polls `revocationsSince`), since a
   * revoke from another process is otherwise invisible to the cache.
   */
  constructor(db: Database, options: { now?: () => number; cache?: boolean } = {}) {
    this.#db = db
    this.#now = options.now ?? Date.now
    this.#cache = options.cache ? { byHash: new Map(), byId: new Map() } : null
    this.#hashes = options.cache ? new Map() : null
    this.#byHash = db.prepare('SELECT * FROM tokens WHERE hash = ?')
    this.#byId = db.prepare('SELECT * FROM tokens WHERE id = ?')
  }

  issue(agent: string, ttlMs: number, note: string | null = null): IssuedToken {
    if (!(ttlMs > 0 && ttlMs <= MAX_TOKEN_TTL_MS)) {
      throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'ttl must be between 1ms and 366d')
    }
    const token = generateToken()
    const now = this.#now()
    const row: TokenRow = {
      id: generateTokenId(),
      agent,
      created_at: now,
      expires_at: now + ttlMs,
      revoked_at: null,
      note,
    }

    this.#db
      .prepare(
        `INSERT INTO tokens (id, hash, agent, created_at, expires_at, note)
         VALUES (@id, @hash, @agent, @created_at, @expires_at, @note)`,
      )
      .run({ ...row, hash: hashToken(token) })
    return { record: toRecord(row), token }
  }

  /** The live token record for a presented token, or null if unknown, expired or revoked. */
  verify(token: string): TokenRecord | null {
    if (!isTokenShaped(token)) return null
    const hash = this.#hashes?.get(token) ?? hashToken(token)
    const row = this.#cache?.byHash.get(hash) ?? readStore(() => this.#byHash.get(hash))
    if (!row || !this.#isLive(row)) return null
    this.#remember(hash, row)
    this.#rememberHash(token, hash)
    return toRecord(row)
  }

  #rememberHash(token: string, hash: string): void {
    const hashes = this.#hashes
    if (!hashes || hashes.has(token)) return
    if (hashes.size >= MAX_REMEMBERED_HASHES) hashes.clear()
    hashes.set(token, hash)
  }

  /** Re-checks a token already verified once (e.g. per request inside a tunnel). */
  isLive(id: string): boolean {
    const row = this.#cache?.byId.get(id) ?? readStore(() => this.#byId.get(id))
    return row !== undefined && this.#isLive(row)
  }

  /** Drops cached rows of these token ids (revoked elsewhere) so the next check reads the store. */
  forget(ids: readonly string[]): void {
    const cache = this.#cache
    if (!cache) return
    for (const id of ids) cache.byId.delete(id)
    for (const [hash, row] of cache.byHash) if (ids.includes(row.id)) cache.byHash.delete(hash)
  }

  #remember(hash: string, row: TokenRow): void {
    const cache = this.#cache
    // Bounded: a flood of distinct valid tokens cannot grow it without limit.
    if (!cache || cache.byHash.size >= 10_000) return
    cache.byHash.set(hash, row)
    cache.byId.set(row.id, row)
  }

  get(id: string): TokenRecord | null {
    const row = this.#byId.get(id)
    return row ? toRecord(row) : null
  }

  /** Revokes at once. Returns false if no such token or it was already revoked. */
  revoke(id: string): boolean {
    this.forget([id])
    const revoke = this.#db.transaction(() => {
      const next = this.#db
        .prepare('SELECT COALESCE(MAX(revoke_seq), 0) + 1 AS seq FROM tokens')
        .get() as { seq: number }
      return this.#db
        .prepare(
          'UPDATE tokens SET revoked_at = ?, revoke_seq = ? WHERE id = ? AND revoked_at IS NULL',
        )
        .run(this.#now(), next.seq, id).changes
    })
    return revoke.immediate() === 1
  }

  list(agent?: string): TokenRecord[] {
    const rows = agent
      ? this.#db.prepare('SELECT * FROM tokens WHERE agent = ? ORDER BY created_at').all(agent)
      : this.#db.prepare('SELECT * FROM tokens ORDER BY created_at').all()
    return (rows as TokenRow[]).map(toRecord)
  }

  /** Token ids revoked after `seq`, and the highest revocation sequence seen. */
  revocationsSince(seq: number): { ids: string[]; seq: number } {
    const rows = this.#db
      .prepare('SELECT id, revoke_seq FROM tokens WHERE revoke_seq > ? ORDER BY revoke_seq')
      .all(seq) as Array<{ id: string; revoke_seq: number }>
    const last = rows.at(-1)
    return { ids: rows.map((r) => r.id), seq: last ? last.revoke_seq : seq }
  }

  #isLive(row: TokenRow): boolean {
    return row.revoked_at === null && row.expires_at > this.#now()
  }
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    agent: row.agent,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    note: row.note,
  }
}

/**
 * Runs a read of the token table. A store that cannot be read (a broken or altered file) is
 * TOLLGATE_STORE_UNAVAILABLE, which the relay answers with 503: the caller is refused, never
 * waved through, and the operator sees a store fault rather than an internal error.
 */
function readStore<T>(read: () => T): T {
  try {
    return read()
  } catch (cause) {
    throw new TollgateError('TOLLGATE_STORE_UNAVAILABLE', 'the token store cannot be read', {
      cause,
    })
  }
}
