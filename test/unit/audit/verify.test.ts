import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AuditLog, recordSync } from '../../../src/audit/audit-log.js'
import { canonicalizeEvent, hashEvent } from '../../../src/audit/hash-chain.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { requestEvent, tempStore, type TempStore } from './audit-fixtures.js'

let store: TempStore
beforeEach(async () => {
  store = tempStore()
  const log = new AuditLog(store.db)
  for (let i = 1; i <= 5; i++) await log.record(requestEvent({ request_id: `r${i}` }))
})
afterEach(() => store.cleanup())

const run = (sql: string, ...params: unknown[]): void => {
  store.db.prepare(sql).run(...params)
}

const bodyOf = (seq: number): string =>
  (store.db.prepare('SELECT body FROM audit_events WHERE seq = ?').get(seq) as { body: string })
    .body

const hashOf = (seq: number): string =>
  (store.db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(seq) as { hash: string })
    .hash

describe('verifyAudit', () => {
  test('passes a good chain and reports its head', () => {
    const head = store.db.prepare('SELECT hash FROM audit_events WHERE seq = 5').get() as {
      hash: string
    }

    assert.deepEqual(verifyAudit(store.db), { ok: true, events: 5, head: head.hash })
  })

  test('passes an empty trail', () => {
    run('DELETE FROM audit_events')
    run("DELETE FROM meta WHERE key = 'audit_head'")

    assert.equal(verifyAudit(store.db).ok, true)
  })

  test('detects a changed body field', () => {
    run('UPDATE audit_events SET body = ? WHERE seq = 3', bodyOf(3).replace('"ci-bot"', '"other"'))

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 3,
      reason: 'hash_mismatch',
      events: 2,
    })
  })

  test('detects a changed hash', () => {
    run('UPDATE audit_events SET hash = ? WHERE seq = 2', 'f'.repeat(64))

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 2,
      reason: 'hash_mismatch',
      events: 1,
    })
  })

  test('detects a rewritten event even when its own hash was recomputed', () => {
    const body = bodyOf(2).replace('"allow"', '"deny"')
    const prev = store.db.prepare('SELECT prev_hash FROM audit_events WHERE seq = 2').get() as {
      prev_hash: string
    }
    run(
      'UPDATE audit_events SET body = ?, hash = ?, decision = ? WHERE seq = 2',
      body,
      hashEvent(prev.prev_hash, body),
      'deny',
    )

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 3,
      reason: 'prev_hash_mismatch',
      events: 2,
    })
  })

  test('detects an indexed column that disagrees with the body', () => {
    run("UPDATE audit_events SET agent = 'someone-else' WHERE seq = 4")

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 4,
      reason: 'body_mismatch',
      events: 3,
    })
  })

  test('detects a body that is not in canonical form', () => {
    const reordered = JSON.stringify(
      Object.fromEntries(Object.entries(JSON.parse(bodyOf(1)) as object).reverse()),
    )
    const genesis = '0'.repeat(64)
    run(
      'UPDATE audit_events SET body = ?, hash = ? WHERE seq = 1',
      reordered,
      hashEvent(genesis, reordered),
    )
    run('UPDATE audit_events SET prev_hash = ? WHERE seq = 2', hashEvent(genesis, reordered))

    assert.notEqual(canonicalizeEvent(JSON.parse(reordered) as Record<string, unknown>), reordered)
    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 1,
      reason: 'body_mismatch',
      events: 0,
    })
  })

  test('detects a deleted middle event', () => {
    run('DELETE FROM audit_events WHERE seq = 3')

    assert.deepEqual(verifyAudit(store.db), { ok: false, seq: 3, reason: 'seq_gap', events: 2 })
  })

  test('detects a deleted first event', () => {
    run('DELETE FROM audit_events WHERE seq = 1')

    assert.deepEqual(verifyAudit(store.db), { ok: false, seq: 1, reason: 'seq_gap', events: 0 })
  })

  test('detects a deleted last event through the head anchor', () => {
    run('DELETE FROM audit_events WHERE seq = 5')

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 5,
      reason: 'head_mismatch',
      events: 4,
    })
  })

  test('a deleted last event stays visible after new events are appended', () => {
    run('DELETE FROM audit_events WHERE seq = 5')
    recordSync(store.db, { type: 'relay.stopped' })

    assert.deepEqual(verifyAudit(store.db), { ok: false, seq: 5, reason: 'seq_gap', events: 4 })
  })

  test('detects a removed head anchor', () => {
    run("DELETE FROM meta WHERE key = 'audit_head'")

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 5,
      reason: 'head_mismatch',
      events: 5,
    })
  })

  test('detects swapped events', () => {
    const columns = 'time, type, request_id, agent, owner, decision, host, body, prev_hash, hash'
    const row = (seq: number): unknown[] =>
      Object.values(
        store.db.prepare(`SELECT ${columns} FROM audit_events WHERE seq = ?`).get(seq) as object,
      )
    const [second, third] = [row(2), row(3)]
    const set = `UPDATE audit_events SET (${columns}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE seq = ?`
    run(set, ...third, 2)
    run(set, ...second, 3)

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 2,
      reason: 'prev_hash_mismatch',
      events: 1,
    })
  })

  test('detects a deletion hidden by renumbering the events after it', () => {
    run('DELETE FROM audit_events WHERE seq = 3')
    run('UPDATE audit_events SET seq = seq - 1 WHERE seq > 3')
    run("UPDATE meta SET value = ? WHERE key = 'audit_head'", `4:${'0'.repeat(64)}`)

    assert.deepEqual(verifyAudit(store.db), {
      ok: false,
      seq: 3,
      reason: 'prev_hash_mismatch',
      events: 2,
    })
  })

  test('detects an event whose seq column was changed alone', () => {
    run('UPDATE audit_events SET seq = 6 WHERE seq = 5')
    run("UPDATE meta SET value = ? WHERE key = 'audit_head'", `6:${hashOf(6)}`)

    assert.deepEqual(verifyAudit(store.db), { ok: false, seq: 5, reason: 'seq_gap', events: 4 })
  })
})
