import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AuditLog } from '../../../src/audit/audit-log.js'
import { AUDIT_EVENT_KEYS } from '../../../src/audit/hash-chain.js'
import { exportAudit, queryAudit, tailAudit } from '../../../src/audit/query.js'
import type { AuditEvent } from '../../../src/audit/event.js'
import { TollgateError } from '../../../src/errors/tollgate-error.js'
import { requestEvent, tempStore, type TempStore } from './audit-fixtures.js'

const DAY1 = new Date('2025-03-01T10:00:00.000Z')
const DAY2 = new Date('2025-03-02T10:00:00.000Z')
const DAY3 = new Date('2025-03-03T10:00:00.000Z')

let store: TempStore
let clock: Date
let log: AuditLog

// Six events over three days: two agents, two owners, allow and deny, two hosts.
beforeEach(async () => {
  store = tempStore()
  clock = DAY1
  log = new AuditLog(store.db, { now: () => clock })

  await log.record(requestEvent({ agent: 'ci-bot', host: 'api.github.com' }))
  await log.record(requestEvent({ agent: 'ci-bot', host: 'evil.example', decision: 'deny' }))
  clock = DAY2
  await log.record(requestEvent({ agent: 'crawler', owner: 'bob@example.com' }))
  await log.record({ type: 'token.issued', agent: 'crawler', detail: { token_id: 't1' } })
  clock = DAY3
  await log.record(requestEvent({ agent: 'crawler', owner: 'bob@example.com', decision: 'deny' }))
  await log.record({ type: 'relay.stopped' })
})
afterEach(() => store.cleanup())

const seqs = (events: AuditEvent[]): number[] => events.map((event) => event.seq)

describe('queryAudit', () => {
  test('returns every event in seq order without a filter', () => {
    assert.deepEqual(seqs(queryAudit(store.db)), [1, 2, 3, 4, 5, 6])
  })

  test('filters on each indexed field', () => {
    assert.deepEqual(seqs(queryAudit(store.db, { agent: 'crawler' })), [3, 4, 5])
    assert.deepEqual(seqs(queryAudit(store.db, { owner: 'bob@example.com' })), [3, 5])
    assert.deepEqual(seqs(queryAudit(store.db, { decision: 'deny' })), [2, 5])
    assert.deepEqual(seqs(queryAudit(store.db, { host: 'evil.example' })), [2])
    assert.deepEqual(seqs(queryAudit(store.db, { type: 'token.issued' })), [4])
  })

  test('since is inclusive and until exclusive', () => {
    assert.deepEqual(seqs(queryAudit(store.db, { since: DAY2 })), [3, 4, 5, 6])
    assert.deepEqual(seqs(queryAudit(store.db, { until: DAY2 })), [1, 2])
    assert.deepEqual(seqs(queryAudit(store.db, { since: DAY2, until: DAY3 })), [3, 4])
  })

  test('combines filters with AND, and honours afterSeq and limit', () => {
    assert.deepEqual(seqs(queryAudit(store.db, { agent: 'crawler', decision: 'deny' })), [5])
    assert.deepEqual(seqs(queryAudit(store.db, { afterSeq: 2, limit: 3 })), [3, 4, 5])
  })

  test('treats filter values as data, never as SQL', () => {
    assert.deepEqual(queryAudit(store.db, { agent: "x' OR '1'='1" }), [])
    assert.deepEqual(queryAudit(store.db, { host: '%' }), [])
  })

  test('refuses a nonsensical limit, afterSeq or date', () => {
    const invalid = (error: unknown): boolean =>
      error instanceof TollgateError && error.code === 'TOLLGATE_INVALID_ARGUMENT'

    assert.throws(() => queryAudit(store.db, { limit: 0 }), invalid)
    assert.throws(() => queryAudit(store.db, { afterSeq: -1 }), invalid)
    assert.throws(() => queryAudit(store.db, { since: new Date('nope') }), invalid)
  })

  test('reads events back exactly as they were recorded', () => {
    const [event] = queryAudit(store.db, { type: 'token.issued' })

    assert.equal(event?.time, DAY2.toISOString())
    assert.deepEqual(event?.detail, { token_id: 't1' })
    assert.equal(event?.owner, null)
    assert.match(event?.hash ?? '', /^[0-9a-f]{64}$/)
  })
})

describe('exportAudit', () => {
  test('writes one parseable JSON object per line with the stable keys', () => {
    const lines: string[] = []
    const count = exportAudit(store.db, {}, (line) => lines.push(line))

    assert.equal(count, 6)
    assert.equal(lines.length, 6)
    for (const line of lines) {
      assert.ok(!line.includes('\n'))
      assert.deepEqual(Object.keys(JSON.parse(line) as object), [...AUDIT_EVENT_KEYS])
    }
  })

  test('applies the filter', () => {
    const lines: string[] = []
    exportAudit(store.db, { agent: 'ci-bot' }, (line) => lines.push(line))

    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as AuditEvent).seq),
      [1, 2],
    )
  })
})

describe('tailAudit', () => {
  test('without follow shows the newest matching events and returns', async () => {
    const seen: AuditEvent[] = []
    const filter = { agent: 'crawler' }
    await tailAudit(
      store.db,
      { follow: false, filter, last: 2 },
      (e) => seen.push(e),
      new AbortController().signal,
    )

    assert.deepEqual(seqs(seen), [4, 5])
  })

  test('with follow delivers events committed later, until aborted', async () => {
    const seen: AuditEvent[] = []
    const abort = new AbortController()
    let arrived: () => void = () => undefined
    const twoMore = new Promise<void>((resolve) => (arrived = resolve))
    const onEvent = (event: AuditEvent): void => {
      seen.push(event)
      if (seen.length === 3) arrived()
    }

    const tail = tailAudit(
      store.db,
      { follow: true, intervalMs: 5, last: 1, filter: { decision: 'deny' } },
      onEvent,
      abort.signal,
    )
    await log.record(requestEvent({ decision: 'allow' }))
    await log.record(requestEvent({ decision: 'deny' }))
    await log.record(requestEvent({ decision: 'deny' }))
    await twoMore
    abort.abort()
    await tail

    assert.deepEqual(seqs(seen), [5, 8, 9])
  })

  test('starts after filter.afterSeq when given', async () => {
    const seen: AuditEvent[] = []
    await tailAudit(
      store.db,
      { follow: false, filter: { afterSeq: 4 } },
      (e) => seen.push(e),
      new AbortController().signal,
    )

    assert.deepEqual(seqs(seen), [5, 6])
  })
})
