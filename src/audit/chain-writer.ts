import type { Statement, Transaction } from 'better-sqlite3'
import type { Database } from '../store/database.js'
import type { AuditEventInput } from './event.js'
import {
  GENESIS_HASH,
  HEAD_META_KEY,
  canonicalJson,
  canonicalTail,
  formatHead,
  hashEvent,
  parseHead,
  type ChainHead,
} from './hash-chain.js'

/**
 * An event ready to be appended: its canonical JSON minus seq and time, and the values of the
 * indexed columns. Built when the event is recorded so the transaction only concatenates and
 * hashes.
 */
export interface PreparedEvent {
  tail: string
  columns: [
    type: string,
    requestId: string | null,
    agent: string | null,
    owner: string | null,
    decision: string | null,
    host: string | null,
  ]
}

/** The last event an append wrote, with the exact bytes that were hashed. */
export interface AppendedLink extends ChainHead {
  time: string
  body: string
  prevHash: string
}

type InsertRow = [number, string, ...PreparedEvent['columns'], string, string, string]

/** Serialises an event for `ChainWriter.append`. Throws if `detail` is not representable. */
export function prepareEvent(event: AuditEventInput): PreparedEvent {
  return { tail: canonicalTail(event), columns: columnsOf(event) }
}

function columnsOf(event: AuditEventInput): PreparedEvent['columns'] {
  return [
    event.type,
    event.request_id ?? null,
    event.agent ?? null,
    event.owner ?? null,
    event.decision ?? null,
    event.host ?? null,
  ]
}

/**
 * The event `prepareEvent` makes, from its tail alone. The relay's thread hands its sink only
 * the tails (one string per batch is far cheaper to pass between threads than an object per
 * event), and the indexed columns are read back out of them where the batch is written.
 */
export function preparedFromTail(tail: string): PreparedEvent {
  return { tail, columns: columnsOf(JSON.parse(`{${tail}`) as AuditEventInput) }
}

/**
 * Appends events to the hash chain of one connection. Each `append` is one `BEGIN IMMEDIATE`
 * transaction that reads the tail, links the events onto it and moves the head anchor, so
 * writers on other connections (the CLI beside `tollgate serve`) interleave without forking
 * the chain.
 */
export class ChainWriter {
  readonly #selectLast: Statement<[], ChainHead>
  readonly #selectAnchor: Statement<[string], { value: string }>
  readonly #insert: Statement<InsertRow>
  readonly #writeAnchor: Statement<[string, string]>
  readonly #append: Transaction<(events: readonly PreparedEvent[], time: string) => AppendedLink>

  constructor(db: Database) {
    this.#selectLast = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1')
    this.#selectAnchor = db.prepare('SELECT value FROM meta WHERE key = ?')
    this.#insert = db.prepare(
      `INSERT INTO audit_events
        (seq, time, type, request_id, agent, owner, decision, host, body, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#writeAnchor = db.prepare(
      `INSERT INTO meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    )
    this.#append = db.transaction((events, time) => this.#appendAll(events, time))
  }

  /** Appends `events` in order, all stamped with `time`, in one durable transaction. */
  append(events: readonly PreparedEvent[], time: Date): AppendedLink {
    return this.#append.immediate(events, time.toISOString())
  }

  #appendAll(events: readonly PreparedEvent[], time: string): AppendedLink {
    let link: AppendedLink = { ...this.#readTail(), time, body: '', prevHash: '' }

    for (const event of events) {
      const seq = link.seq + 1
      const body = canonicalJson(seq, time, event.tail)
      const hash = hashEvent(link.hash, body)
      this.#insert.run(seq, time, ...event.columns, body, link.hash, hash)
      link = { seq, hash, time, body, prevHash: link.hash }
    }

    this.#writeAnchor.run(HEAD_META_KEY, formatHead(link))
    return link
  }

  // The tail is re-read inside every transaction because other connections append too. The
  // anchor wins over the table's last row: if rows were deleted from the end, new events keep
  // linking onto the anchored head, so the gap stays visible to `verifyAudit` instead of being
  // papered over by the next append.
  #readTail(): ChainHead {
    const last = this.#selectLast.get() ?? { seq: 0, hash: GENESIS_HASH }
    const anchor = parseHead(this.#selectAnchor.get(HEAD_META_KEY)?.value)
    if (anchor === null || last.seq > anchor.seq) return last
    return anchor
  }
}
