import { TollgateError } from '../errors/tollgate-error.js'
import type { AuditEvent } from './event.js'

/**
 * Which events to read. Every given field must match (AND). `since` is inclusive and `until`
 * exclusive, compared with the event's `time`; `afterSeq` reads strictly after that seq.
 */
export interface AuditFilter {
  /** Every event of one request (its decision and completion), by the id the agent was sent. */
  request?: string
  agent?: string
  owner?: string
  decision?: string
  host?: string
  type?: string
  since?: Date
  until?: Date
  afterSeq?: number
  limit?: number
}

/** A row as the readers select it: the hashed body plus the chain fields. */
export interface EventRow {
  seq: number
  body: string
  prev_hash: string
  hash: string
}

/** A SELECT over `audit_events` with its bound parameters, in the order of the placeholders. */
export interface SelectStatement {
  sql: string
  params: unknown[]
}

// Column names come only from this table, never from the caller; values are always bound.
const EQUALITY_FILTERS = [
  ['request', 'request_id = ?'],
  ['agent', 'agent = ?'],
  ['owner', 'owner = ?'],
  ['decision', 'decision = ?'],
  ['host', 'host = ?'],
  ['type', 'type = ?'],
] as const

/**
 * Builds the SELECT for a filter. Only fixed SQL fragments are concatenated; every value the
 * caller gave is bound. `maxSeq` caps the read at a head taken beforehand (for tailing).
 * Throws TOLLGATE_INVALID_ARGUMENT for an invalid date, a negative `afterSeq` or `limit` < 1.
 */
export function buildSelect(
  filter: AuditFilter,
  order: 'ASC' | 'DESC',
  maxSeq?: number,
): SelectStatement {
  const clauses: string[] = []
  const params: unknown[] = []
  const where = (clause: string, value: unknown): void => {
    clauses.push(clause)
    params.push(value)
  }

  for (const [key, clause] of EQUALITY_FILTERS) {
    const value = filter[key]
    if (value !== undefined) where(clause, value)
  }
  if (filter.since !== undefined) where('time >= ?', isoTime(filter.since, 'since'))
  if (filter.until !== undefined) where('time < ?', isoTime(filter.until, 'until'))
  if (filter.afterSeq !== undefined) where('seq > ?', checkInteger(filter.afterSeq, 'afterSeq', 0))
  if (maxSeq !== undefined) where('seq <= ?', maxSeq)

  const whereSql = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''
  const limitSql = filter.limit === undefined ? '' : 'LIMIT ?'
  if (filter.limit !== undefined) params.push(checkInteger(filter.limit, 'limit', 1))

  const sql = `SELECT seq, body, prev_hash, hash FROM audit_events ${whereSql}
    ORDER BY seq ${order} ${limitSql}`
  return { sql, params }
}

function isoTime(value: Date, name: string): string {
  if (Number.isNaN(value.getTime())) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `${name} is not a valid time`)
  }
  return value.toISOString()
}

function checkInteger(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `${name} must be an integer >= ${min}`)
  }
  return value
}

/** Parses a stored row back into the event as exported. */
export function rowToEvent(row: EventRow): AuditEvent {
  let stored: Omit<AuditEvent, 'prev_hash' | 'hash'>
  try {
    stored = JSON.parse(row.body) as Omit<AuditEvent, 'prev_hash' | 'hash'>
  } catch (cause) {
    throw new TollgateError(
      'TOLLGATE_STORE_UNAVAILABLE',
      `audit event ${row.seq} has an unreadable body; run \`tollgate audit verify\``,
      { cause },
    )
  }
  return { ...stored, prev_hash: row.prev_hash, hash: row.hash }
}
