import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { prepareEvent, preparedFromTail } from '../../../src/audit/chain-writer.js'
import type { AuditEventInput } from '../../../src/audit/event.js'
import { queryAudit } from '../../../src/audit/query.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { WorkerChainSink } from '../../../src/audit/worker-chain-sink.js'
import { openDatabase } from '../../../src/store/database.js'

/** Events with every indexed column set, and text a line-based wire format could trip on. */
const EVENTS: AuditEventInput[] = [
  {
    type: 'request.decided',
    request_id: 'req_1',
    agent: 'bot',
    owner: 'alice@example.com',
    decision: 'allow',
    host: 'api.example.com',
    path: '/a\nb\r\nc\u2028d',
    detail: { note: 'line\nbreak', nested: { z: 1, a: [null, 'é'] } },
  },
  { type: 'auth.failed', request_id: 'req_2', decision: 'unauthenticated' },
  { type: 'relay.started' },
]

void describe('WorkerChainSink', () => {
  void test('the writer thread stores the events and indexed columns the relay prepared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-sink-'))
    const path = join(dir, 'tollgate.db')
    openDatabase(path).close()
    const sink = new WorkerChainSink(path)
    try {
      await sink.append(
        EVENTS.map((event) => prepareEvent(event).tail),
        new Date('2026-01-02T03:04:05.000Z'),
      )
    } finally {
      await sink.close()
    }

    const db = openDatabase(path)
    try {
      assert.equal(verifyAudit(db).ok, true)
      const [decided] = queryAudit(db, { agent: 'bot', decision: 'allow', host: 'api.example.com' })
      assert.equal(decided?.request_id, 'req_1')
      assert.equal(decided?.owner, 'alice@example.com')
      assert.equal(decided?.path, '/a\nb\r\nc\u2028d')
      assert.deepEqual(decided?.detail, EVENTS[0]?.detail)
      assert.equal(queryAudit(db, { request: 'req_2' })[0]?.type, 'auth.failed')
      assert.deepEqual(
        queryAudit(db, {}).map((e) => e.type),
        EVENTS.map((e) => e.type),
      )
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  void test('a tail read back gives the columns prepareEvent gave', () => {
    for (const event of EVENTS) {
      const prepared = prepareEvent(event)
      assert.deepEqual(preparedFromTail(prepared.tail), prepared)
      assert.ok(!prepared.tail.includes('\n'), 'one line per event on the wire')
    }
  })
})
