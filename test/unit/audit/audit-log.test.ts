import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AuditLog, recordSync } from '../../../src/audit/audit-log.js'
import { queryAudit } from '../../../src/audit/query.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { TollgateError } from '../../../src/errors/tollgate-error.js'
import { createLogger } from '../../../src/observability/logger.js'
import {
  countWalCommits,
  requestEvent,
  resetWal,
  tempStore,
  type TempStore,
} from './audit-fixtures.js'

const isAuditUnavailable = (error: unknown): boolean =>
  error instanceof TollgateError && error.code === 'TOLLGATE_AUDIT_UNAVAILABLE'

const rowCount = (store: TempStore): number =>
  (store.connect().prepare('SELECT COUNT(*) AS n FROM audit_events').get() as { n: number }).n

const refuseInserts = `CREATE TRIGGER refuse BEFORE INSERT ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit is read-only'); END`

let store: TempStore
beforeEach(() => {
  store = tempStore()
})
afterEach(() => store.cleanup())

describe('AuditLog.record', () => {
  test('resolves only once the event is committed and visible to other connections', async () => {
    const log = new AuditLog(store.db)
    const pending = log.record(requestEvent())
    assert.equal(rowCount(store), 0)

    await pending
    assert.equal(rowCount(store), 1)
    assert.equal(queryAudit(store.connect())[0]?.agent, 'ci-bot')
  })

  test('commits everything recorded in one turn in a single transaction', async () => {
    const log = new AuditLog(store.db)
    resetWal(store.db)

    await Promise.all(
      Array.from({ length: 100 }, (_, i) => log.record(requestEvent({ request_id: `r${i}` }))),
    )

    assert.equal(countWalCommits(store.path), 1)
    const events = queryAudit(store.db)
    assert.deepEqual(
      events.map((event) => event.seq),
      Array.from({ length: 100 }, (_, i) => i + 1),
    )
    assert.deepEqual(
      events.map((event) => event.request_id),
      Array.from({ length: 100 }, (_, i) => `r${i}`),
    )
    assert.equal(new Set(events.map((event) => event.time)).size, 1)
  })

  test('commits a full batch at once; what arrives meanwhile goes in the next one', async () => {
    const log = new AuditLog(store.db, { maxBatch: 32 })
    resetWal(store.db)

    const records = Array.from({ length: 100 }, () => log.record(requestEvent()))
    assert.equal(countWalCommits(store.path), 1)

    // While one batch is in flight the rest gather, and go together once it is durable.
    await Promise.all(records)
    assert.equal(countWalCommits(store.path), 2)
  })

  test('events from different turns go into different transactions', async () => {
    const log = new AuditLog(store.db)
    resetWal(store.db)

    await log.record(requestEvent())
    await log.record(requestEvent())

    assert.equal(countWalCommits(store.path), 2)
  })

  test('a second writer on another connection interleaves without forking the chain', async () => {
    const relay = new AuditLog(store.db)
    const other = new AuditLog(store.connect())
    const cli = store.connect()

    for (let turn = 0; turn < 20; turn++) {
      const records = [relay, other].flatMap((log) =>
        Array.from({ length: 5 }, () => log.record(requestEvent({ request_id: `t${turn}` }))),
      )
      recordSync(cli, { type: 'token.issued', agent: 'ci-bot', detail: { turn } })
      await Promise.all(records)
    }

    assert.deepEqual(verifyAudit(store.db), {
      ok: true,
      events: 220,
      head: queryAudit(store.db, { afterSeq: 219 })[0]?.hash,
    })
  })
})

describe('AuditLog failures', () => {
  test('a commit that fails rejects every record of the batch with TOLLGATE_AUDIT_UNAVAILABLE', async () => {
    const log = new AuditLog(store.db)
    store.db.exec(refuseInserts)

    const results = await Promise.allSettled([
      log.record(requestEvent()),
      log.record(requestEvent()),
    ])

    for (const result of results) {
      assert.equal(result.status, 'rejected')
      assert.ok(isAuditUnavailable(result.reason))
    }
    assert.equal(rowCount(store), 0)
  })

  test('recovers once the store accepts writes again, and the chain stays whole', async () => {
    const log = new AuditLog(store.db)
    await log.record(requestEvent())
    store.db.exec(refuseInserts)
    await assert.rejects(log.record(requestEvent()), isAuditUnavailable)

    store.db.exec('DROP TRIGGER refuse')
    await log.record(requestEvent())

    assert.deepEqual(verifyAudit(store.db), {
      ok: true,
      events: 2,
      head: queryAudit(store.db)[1]?.hash,
    })
  })

  test('rejects when the database is closed underneath', async () => {
    const log = new AuditLog(store.db)
    store.db.close()

    await assert.rejects(log.record(requestEvent()), isAuditUnavailable)
  })

  test('an event that cannot be serialised is refused alone', async () => {
    const log = new AuditLog(store.db)

    const bad = log.record({ type: 'config.loaded', detail: { big: 1n } })
    const good = log.record(requestEvent())

    await assert.rejects(bad, isAuditUnavailable)
    await good
    assert.equal(rowCount(store), 1)
  })

  test('recordQuietly never rejects and logs how many events were lost', async () => {
    const lines: string[] = []
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    })
    const log = new AuditLog(store.db, { logger })
    store.db.exec(refuseInserts)

    await Promise.all([log.recordQuietly(requestEvent()), log.recordQuietly(requestEvent())])

    assert.equal(lines.length, 1)
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>
    assert.equal(entry['event'], 'audit.write_failed')
    assert.equal(entry['lost'], 2)
  })
})

describe('AuditLog.flush and close', () => {
  test('flush commits what is queued', async () => {
    const log = new AuditLog(store.db)
    const record = log.record(requestEvent())

    await log.flush()
    assert.equal(rowCount(store), 1)
    await record
  })

  test('close commits what is queued, then refuses new records', async () => {
    const log = new AuditLog(store.db)
    const queued = log.record(requestEvent())

    await log.close()
    await queued
    assert.equal(rowCount(store), 1)
    await assert.rejects(log.record(requestEvent()), isAuditUnavailable)
    await log.recordQuietly(requestEvent())
    assert.equal(rowCount(store), 1)
  })
})

describe('recordSync', () => {
  test('appends one event and returns it as stored', () => {
    const first = recordSync(store.db, { type: 'secret.set', detail: { name: 'github' } })
    const second = recordSync(store.db, { type: 'secret.deleted', detail: { name: 'github' } })

    assert.equal(second.seq, 2)
    assert.equal(second.prev_hash, first.hash)
    assert.deepEqual(queryAudit(store.db), [first, second])
  })

  test('throws TOLLGATE_AUDIT_UNAVAILABLE when the write fails', () => {
    store.db.exec(refuseInserts)

    assert.throws(() => recordSync(store.db, { type: 'token.revoked' }), isAuditUnavailable)
  })
})
