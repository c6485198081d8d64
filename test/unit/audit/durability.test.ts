import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { prepareEvent } from '../../../src/audit/chain-writer.js'
import { WorkerChainSink } from '../../../src/audit/worker-chain-sink.js'
import { openDatabase } from '../../../src/store/database.js'
import { baseWith, baseWithAppended, issuesOf, load } from '../config/config-fixtures.js'

// SQLite's `PRAGMA synchronous` levels: FULL fsyncs every commit, NORMAL (in WAL mode) does not.
const FULL = 2
const NORMAL = 1

void describe('server.audit.durability', () => {
  void test('is disk unless the operator says process', () => {
    assert.equal(load(baseWith({})).config.server.audit.durability, 'disk')
    const text = baseWithAppended('server:', '  audit: { durability: process }')
    assert.equal(load(text).config.server.audit.durability, 'process')
  })

  void test('anything else is refused at its key', () => {
    const text = baseWithAppended('server:', '  audit: { durability: sometimes }')
    const issues = issuesOf(text)
    assert.ok(
      issues.some((issue) => issue.includes('server.audit.durability')),
      issues.join('\n'),
    )
  })
})

void describe('WorkerChainSink durability', () => {
  const withSink = async (durable: boolean | undefined, check: (level: number) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-durability-'))
    const path = join(dir, 'tollgate.db')
    openDatabase(path).close()
    const sink = new WorkerChainSink(path, durable === undefined ? {} : { durable })
    try {
      // An append first, so the level is the one the writer committed with.
      await sink.append([prepareEvent({ type: 'relay.started' }).tail], new Date())
      check(await sink.synchronousLevel())
    } finally {
      await sink.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }

  void test('the writer thread fsyncs every commit by default', async () => {
    await withSink(undefined, (level) => assert.equal(level, FULL))
    await withSink(true, (level) => assert.equal(level, FULL))
  })

  void test('durable: false commits without fsync', async () => {
    await withSink(false, (level) => assert.equal(level, NORMAL))
  })
})
