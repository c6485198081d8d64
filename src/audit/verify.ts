import type { Database } from '../store/database.js'
import {
  GENESIS_HASH,
  HEAD_META_KEY,
  canonicalizeEvent,
  hashEvent,
  parseHead,
  type ChainHead,
} from './hash-chain.js'

/**
 * Why a trail failed verification, at the reported seq:
 * - `seq_gap`: the event with that seq is missing (deleted, or the trail does not start at 1);
 * - `prev_hash_mismatch`: the event does not link to the one before it (reordered, replaced);
 * - `hash_mismatch`: the stored body or hash was changed after it was written;
 * - `body_mismatch`: an indexed column (type, agent, ...) disagrees with the hashed body, or the
 *   body is not in canonical form;
 * - `head_mismatch`: the chain does not end where the head anchor says it does (events removed
 *   from the end, or the anchor itself removed or changed).
 */
export type VerifyFailureReason =
  'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'body_mismatch' | 'head_mismatch'

/** `events` counts the events found intact before the first failure (or all of them). */
export type VerifyResult =
  | { ok: true; events: number; head: string }
  | { ok: false; seq: number; reason: VerifyFailureReason; events: number }

interface StoredRow {
  seq: number
  time: string
  type: string
  request_id: string | null
  agent: string | null
  owner: string | null
  decision: string | null
  host: string | null
  body: string
  prev_hash: string
  hash: string
}

const INDEXED_COLUMNS = [
  'seq',
  'time',
  'type',
  'request_id',
  'agent',
  'owner',
  'decision',
  'host',
] as const

/**
 * Walks the whole trail in seq order and recomputes every link. Streams rows, so memory stays
 * flat however long the trail is. Reads inside one transaction: a relay appending meanwhile
 * cannot make the anchor and the rows disagree.
 *
 * What it cannot see: someone with write access who rewrites every hash from the first changed
 * event onwards and the anchor too. Only a copy of the head kept outside the database (not
 * built yet) would catch that.
 */
export function verifyAudit(db: Database): VerifyResult {
  const walk = db.transaction(() => walkChain(db))
  return walk.deferred()
}

function walkChain(db: Database): VerifyResult {
  const anchor = db
    .prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?')
    .get(HEAD_META_KEY)?.value
  const rows = db.prepare<[], StoredRow>('SELECT * FROM audit_events ORDER BY seq').iterate()

  let last: ChainHead = { seq: 0, hash: GENESIS_HASH }
  let events = 0
  for (const row of rows) {
    const reason = checkRow(row, last)
    if (reason !== null) {
      const seq = reason === 'seq_gap' ? last.seq + 1 : row.seq
      return { ok: false, seq, reason, events }
    }
    last = row
    events++
  }

  return checkHead(anchor, last, events)
}

function checkRow(row: StoredRow, previous: ChainHead): VerifyFailureReason | null {
  if (row.seq !== previous.seq + 1) return 'seq_gap'
  if (row.prev_hash !== previous.hash) return 'prev_hash_mismatch'
  if (hashEvent(row.prev_hash, row.body) !== row.hash) return 'hash_mismatch'
  return bodyMatches(row) ? null : 'body_mismatch'
}

function bodyMatches(row: StoredRow): boolean {
  let body: unknown
  try {
    body = JSON.parse(row.body)
  } catch {
    return false
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false

  const event = body as Record<string, unknown>
  if (canonicalizeEvent(event) !== row.body) return false
  return INDEXED_COLUMNS.every((column) => event[column] === row[column])
}

// The chain alone cannot show that its last events were removed: what is left is still a valid
// chain. The anchor, moved in the same transaction as every append, says where it must end.
function checkHead(anchorValue: string | undefined, last: ChainHead, events: number): VerifyResult {
  if (anchorValue === undefined && events === 0) {
    return { ok: true, events, head: GENESIS_HASH }
  }

  const anchor = parseHead(anchorValue)
  if (anchor?.seq === last.seq && anchor.hash === last.hash) {
    return { ok: true, events, head: last.hash }
  }

  const truncated = anchor !== null && anchor.seq > last.seq
  return { ok: false, seq: truncated ? last.seq + 1 : last.seq, reason: 'head_mismatch', events }
}
