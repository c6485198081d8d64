import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from '../store/database.js'
import type { AuditEvent } from './event.js'
import { buildSelect, rowToEvent, type AuditFilter, type EventRow } from './audit-filter.js'

export type { AuditFilter } from './audit-filter.js'

export interface TailOptions {
  /** Keep polling for new events until the signal aborts; otherwise stop after the backlog. */
  follow: boolean
  /** Pause between polls while following. Default 500 ms. */
  intervalMs?: number
  /** Which events to show; its `limit` is ignored (see `last`). */
  filter?: AuditFilter
  /** How many of the newest matching events to show first when `filter.afterSeq` is not set. */
  last?: number
}

const DEFAULT_QUERY_LIMIT = 1000
const PAGE = 1000

/** Reads matching events in seq order, at most `filter.limit` (default 1000) of them. */
export function queryAudit(db: Database, filter: AuditFilter = {}): AuditEvent[] {
  const limited = { ...filter, limit: filter.limit ?? DEFAULT_QUERY_LIMIT }
  const { sql, params } = buildSelect(limited, 'ASC')
  return db
    .prepare<unknown[], EventRow>(sql)
    .all(...params)
    .map(rowToEvent)
}

/**
 * Writes every matching event as one line of JSON (JSON Lines), in seq order, streaming from
 * the database so a trail of any size needs constant memory. Keys are `AUDIT_EVENT_KEYS`.
 * @returns how many events were written.
 */
export function exportAudit(
  db: Database,
  filter: AuditFilter,
  write: (line: string) => void,
): number {
  const { sql, params } = buildSelect(filter, 'ASC')

  let count = 0
  for (const row of db.prepare<unknown[], EventRow>(sql).iterate(...params)) {
    write(JSON.stringify(rowToEvent(row)))
    count++
  }
  return count
}

/**
 * Shows the newest events, then (with `follow`) every new one as it is committed, by polling
 * for seq beyond the last seen. Resolves when the backlog is shown and `follow` is off, or when
 * `signal` aborts.
 */
export async function tailAudit(
  db: Database,
  options: TailOptions,
  onEvent: (event: AuditEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const filter = options.filter ?? {}
  let seen = showBacklog(db, filter, options.last ?? 10, onEvent)

  while (options.follow && !signal.aborted) {
    const stopped = await pause(options.intervalMs ?? 500, signal)
    if (stopped) return
    seen = showNew(db, filter, seen, onEvent)
  }
}

function showBacklog(
  db: Database,
  filter: AuditFilter,
  last: number,
  onEvent: (event: AuditEvent) => void,
): number {
  if (filter.afterSeq !== undefined) return showNew(db, filter, filter.afterSeq, onEvent)

  const head = headSeq(db)
  if (last <= 0) return head

  const { sql, params } = buildSelect({ ...filter, limit: last }, 'DESC', head)
  const rows = db.prepare<unknown[], EventRow>(sql).all(...params)
  rows.reverse().forEach((row) => onEvent(rowToEvent(row)))
  return head
}

// Reads up to the head as it was before the read, and remembers that head rather than the last
// matching seq, so rows the filter skipped are not scanned again on the next poll.
function showNew(
  db: Database,
  filter: AuditFilter,
  after: number,
  onEvent: (event: AuditEvent) => void,
): number {
  const head = headSeq(db)
  let seen = after

  while (seen < head) {
    const page = { ...filter, afterSeq: seen, limit: PAGE }
    const { sql, params } = buildSelect(page, 'ASC', head)
    const rows = db.prepare<unknown[], EventRow>(sql).all(...params)
    rows.forEach((row) => onEvent(rowToEvent(row)))
    seen = rows.length < PAGE ? head : (rows.at(-1)?.seq ?? head)
  }
  return seen
}

function headSeq(db: Database): number {
  const row = db
    .prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM audit_events')
    .get()
  return row?.seq ?? 0
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal })
    return false
  } catch {
    return true
  }
}
