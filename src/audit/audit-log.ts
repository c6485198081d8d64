import { TollgateError } from '../errors/tollgate-error.js'
import { createSilentLogger, type Logger } from '../observability/logger.js'
import type { Database } from '../store/database.js'
import { rowToEvent } from './audit-filter.js'
import { ChainWriter, prepareEvent } from './chain-writer.js'
import { canonicalTail } from './hash-chain.js'
import { InlineChainSink, type ChainSink } from './chain-sink.js'
import type { AuditEvent, AuditEventInput } from './event.js'

/** Longest a quiet event (one nobody waits on) waits for an urgent one to share a commit. */
const QUIET_DELAY_MS = 20

export interface AuditLogOptions {
  /** Events per transaction before a batch is committed without waiting for the turn to end. */
  maxBatch?: number
  /** Where `recordQuietly` reports events it could not write. */
  logger?: Logger
  /** The clock that stamps `time`; one reading per transaction. */
  now?: () => Date
  /** Where batches are committed; defaults to the calling thread, on `db`. */
  sink?: ChainSink
}

/** Events recorded in one event-loop turn: committed together, settled together. */
interface Batch {
  /** Each event's `canonicalTail`: all the sink needs, and cheap to pass to another thread. */
  events: string[]
  done: Promise<void>
  resolve: () => void
  reject: (error: TollgateError) => void
  /** Set once the first `recordQuietly` joins, so a failure is logged once per batch. */
  quiet: Promise<void> | null
  quietCount: number
  /** Its commit came due while another batch was in flight: commit as soon as that one lands. */
  due: boolean
}

/**
 * The durable, batched writer of the audit trail. Events recorded in the same event-loop turn
 * share one SQLite transaction (group commit), so a busy relay pays one fsync per turn instead
 * of one per request. The database should be opened with `openDatabase` (WAL,
 * `synchronous=FULL`): only then does a resolved `record` mean the event survives a crash.
 *
 * The log does not own the database: `close` stops recording but leaves the connection open.
 *
 * @example
 * const audit = new AuditLog(db, { logger })
 * await audit.record({ type: 'request.decided', agent: 'ci-bot', decision: 'allow' })
 * // only now may the request be forwarded
 */
export class AuditLog {
  readonly #sink: ChainSink
  readonly #maxBatch: number
  readonly #logger: Logger
  readonly #now: () => Date
  #batch: Batch | null = null
  /** When the open batch will be committed: at the end of this turn, or after a short wait. */
  #timer:
    { kind: 'now'; handle: NodeJS.Immediate } | { kind: 'later'; handle: NodeJS.Timeout } | null =
    null
  #inFlight: Promise<void> | null = null
  #closed = false

  constructor(db: Database, options: AuditLogOptions = {}) {
    this.#sink = options.sink ?? new InlineChainSink(db)
    this.#maxBatch = Math.max(1, options.maxBatch ?? 512)
    this.#logger = options.logger ?? createSilentLogger()
    this.#now = options.now ?? (() => new Date())
  }

  /**
   * Records an event. Resolves once the transaction holding it has committed; rejects with
   * `TOLLGATE_AUDIT_UNAVAILABLE` if it could not be written, in which case the caller must not
   * go on with what the event describes (no audit, no egress).
   */
  record(event: AuditEventInput): Promise<void> {
    try {
      return this.#enqueue(event, true).done
    } catch (error) {
      return Promise.reject(asAuditError(error))
    }
  }

  /**
   * Records an event nobody waits for (`request.completed`, after the fact). Never rejects: a
   * failed write is logged, with how many such events were lost, and the promise resolves.
   */
  recordQuietly(event: AuditEventInput): Promise<void> {
    try {
      const batch = this.#enqueue(event, false)
      batch.quietCount++
      batch.quiet ??= batch.done.catch((error: unknown) => this.#logLoss(error, batch))
      return batch.quiet
    } catch (error) {
      this.#logLoss(error, null)
      return Promise.resolve()
    }
  }

  /** Commits whatever is queued now. Never rejects: failures reach the records themselves. */
  async flush(): Promise<void> {
    await this.#inFlight?.catch(() => undefined)
    const batch = this.#batch
    if (batch === null) return

    this.#commit()
    await batch.done.catch(() => undefined)
  }

  /** Commits what is queued and refuses every later record with TOLLGATE_AUDIT_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
    await this.#sink.close()
  }

  #enqueue(event: AuditEventInput, urgent: boolean): Batch {
    if (this.#closed) {
      throw new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', 'the audit log is closed')
    }

    const tail = serialise(canonicalTail, event)
    const batch = this.#batch ?? this.#openBatch()
    if (urgent) this.#commitSoon()
    batch.events.push(tail)

    // A full batch goes at once, which also bounds how much a burst can hold in memory.
    if (batch.events.length >= this.#maxBatch) this.#commit()
    return batch
  }

  #openBatch(): Batch {
    const batch = newBatch()
    this.#batch = batch
    // Nobody waits on a quiet event, so it rides along with the next urgent one instead of
    // paying for a commit (an fsync) of its own; the timer bounds how long it can wait.
    const handle = setTimeout(() => this.#commit(), QUIET_DELAY_MS)
    this.#timer = { kind: 'later', handle }
    return batch
  }

  #commitSoon(): void {
    if (this.#timer?.kind === 'now') return
    this.#clearTimer()
    this.#timer = { kind: 'now', handle: setImmediate(() => this.#commit()) }
  }

  #clearTimer(): void {
    const timer = this.#timer
    if (timer?.kind === 'now') clearImmediate(timer.handle)
    if (timer?.kind === 'later') clearTimeout(timer.handle)
    this.#timer = null
  }

  // One batch is in flight at a time: while the sink commits it, new events gather in the
  // next batch, which goes as soon as the first is durable (group commit).
  #commit(): void {
    const batch = this.#batch
    if (batch === null) return
    if (this.#inFlight !== null) {
      batch.due = true
      return
    }

    this.#batch = null
    this.#clearTimer()

    this.#inFlight = this.#sink.append(batch.events, this.#now()).then(
      () => this.#settled(batch, null),
      (cause: unknown) => this.#settled(batch, cause),
    )
  }

  #settled(batch: Batch, cause: unknown): void {
    this.#inFlight = null
    if (cause === null) batch.resolve()
    else batch.reject(new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', undefined, { cause }))
    if (this.#batch?.due) this.#commit()
  }

  #logLoss(error: unknown, batch: Batch | null): void {
    const lost = batch?.quietCount ?? 1
    this.#logger.error({ event: 'audit.write_failed', lost, err: error }, 'audit events lost')
  }
}

/**
 * Appends one event in its own transaction and returns it as stored. For the CLI, which records
 * a single change (a token issued, a secret set) and exits; throws TOLLGATE_AUDIT_UNAVAILABLE.
 */
export function recordSync(db: Database, event: AuditEventInput, now = new Date()): AuditEvent {
  const prepared = serialise(prepareEvent, event)

  let link
  try {
    link = new ChainWriter(db).append([prepared], now)
  } catch (cause) {
    throw new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', undefined, { cause })
  }

  return rowToEvent({ seq: link.seq, body: link.body, prev_hash: link.prevHash, hash: link.hash })
}

function serialise<T>(form: (event: AuditEventInput) => T, event: AuditEventInput): T {
  try {
    return form(event)
  } catch (cause) {
    throw new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', 'the audit event cannot be serialised', {
      cause,
    })
  }
}

function asAuditError(error: unknown): TollgateError {
  if (error instanceof TollgateError) return error
  return new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', undefined, { cause: error })
}

function newBatch(): Batch {
  let resolve!: () => void
  let reject!: (error: TollgateError) => void
  const done = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  return { events: [], done, resolve, reject, quiet: null, quietCount: 0, due: false }
}
