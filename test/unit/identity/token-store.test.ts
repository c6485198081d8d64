import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import {
  generateToken,
  generateTokenId,
  hashToken,
  holdsToken,
  isTokenShaped,
  redactTokens,
} from '../../../src/identity/token-format.js'
import { MAX_TOKEN_TTL_MS, TokenStore } from '../../../src/identity/token-store.js'
import { openDatabase, type Database } from '../../../src/store/database.js'

const HOUR = 3_600_000
const T0 = Date.parse('2026-01-01T00:00:00Z')

function memoryStore(clock = { now: T0 }): { db: Database; tokens: TokenStore } {
  const db = openDatabase(':memory:')
  return { db, tokens: new TokenStore(db, { now: () => clock.now }) }
}

describe('token format', () => {
  test('tokens are tgt_ + 43 base64url characters, ids tok_ + 16 hex digits, all distinct', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const token = generateToken()
      assert.match(token, /^tgt_[A-Za-z0-9_-]{43}$/)
      assert.equal(Buffer.from(token.slice(4), 'base64url').length, 32)
      assert.match(generateTokenId(), /^tok_[0-9a-f]{16}$/)
      seen.add(token)
    }
    assert.equal(seen.size, 200)
  })

  test('isTokenShaped accepts exactly that shape', () => {
    assert.ok(isTokenShaped(generateToken()))
    for (const junk of ['', 'tgt_', 'tgt_' + 'a'.repeat(42), 'tgt_' + 'a'.repeat(44)]) {
      assert.ok(!isTokenShaped(junk), junk)
    }
    assert.ok(!isTokenShaped('TGT_' + 'a'.repeat(43)))
    assert.ok(!isTokenShaped('tgt_' + 'a'.repeat(42) + '+'))
    assert.ok(!isTokenShaped('tgt_' + 'a'.repeat(43) + '\n'))
  })

  test('holdsToken finds a token inside longer text, and nothing shorter', () => {
    const token = generateToken()

    assert.ok(holdsToken(`Bearer ${token}`))
    assert.ok(holdsToken(`/notes/${token}/x`))
    assert.ok(!holdsToken(`/notes/${token.slice(0, -1)}`))
    assert.ok(!holdsToken('tgt_ and more tgt_ words'))
  })

  test('redactTokens replaces every token and leaves the rest', () => {
    const [a, b] = [generateToken(), generateToken()]

    assert.equal(redactTokens(`/x/${a}/y/${b}`), '/x/tgt_[REDACTED]/y/tgt_[REDACTED]')
    assert.equal(redactTokens('/x/tgt_short'), '/x/tgt_short')
  })

  test('hashToken is the hex SHA-256 of the token text', () => {
    assert.equal(
      hashToken('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })
})

describe('TokenStore', () => {
  test('issue returns the token once and a record; verify finds it', () => {
    const { tokens } = memoryStore()
    const issued = tokens.issue('bot', HOUR, 'ci runner')

    assert.ok(isTokenShaped(issued.token))
    assert.equal(issued.record.agent, 'bot')
    assert.equal(issued.record.note, 'ci runner')
    assert.equal(issued.record.createdAt.getTime(), T0)
    assert.equal(issued.record.expiresAt.getTime(), T0 + HOUR)
    assert.equal(issued.record.revokedAt, null)
    assert.deepEqual(tokens.verify(issued.token), issued.record)
    assert.deepEqual(tokens.get(issued.record.id), issued.record)
  })

  test('only the hash is stored: no column of the row holds the token text', () => {
    const { db, tokens } = memoryStore()
    const { token, record } = tokens.issue('bot', HOUR)

    const row = db.prepare('SELECT * FROM tokens WHERE id = ?').get(record.id) as Record<
      string,
      unknown
    >
    assert.equal(row['hash'], hashToken(token))
    const text = JSON.stringify(row)
    assert.ok(!text.includes(token), 'whole token')
    assert.ok(!text.includes(token.slice(4)), 'token body')
    assert.ok(!text.includes(token.slice(4, 20)), 'a prefix of the body')
  })

  test('the ttl must be within (0, 366 days]', () => {
    const { tokens } = memoryStore()
    for (const ttl of [0, -1, Number.NaN, MAX_TOKEN_TTL_MS + 1, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => tokens.issue('bot', ttl),
        (error: unknown) => isTollgateError(error) && error.code === 'TOLLGATE_INVALID_ARGUMENT',
        String(ttl),
      )
    }
    assert.equal(tokens.issue('bot', 1).record.expiresAt.getTime(), T0 + 1)
    assert.equal(
      tokens.issue('bot', MAX_TOKEN_TTL_MS).record.expiresAt.getTime(),
      T0 + MAX_TOKEN_TTL_MS,
    )
  })

  test('verify refuses unknown, malformed and expired tokens', () => {
    const clock = { now: T0 }
    const { tokens } = memoryStore(clock)
    const { token, record } = tokens.issue('bot', 1000)

    assert.equal(tokens.verify(generateToken()), null)
    assert.equal(tokens.verify(token + 'x'), null)
    assert.equal(tokens.verify(token.toUpperCase()), null)
    clock.now = T0 + 999
    assert.ok(tokens.verify(token))
    assert.equal(tokens.isLive(record.id), true)
    clock.now = T0 + 1000
    assert.equal(tokens.verify(token), null)
    assert.equal(tokens.isLive(record.id), false)
  })

  test('revoke ends a token at once, and only once', () => {
    const clock = { now: T0 }
    const { tokens } = memoryStore(clock)
    const { token, record } = tokens.issue('bot', HOUR)
    clock.now = T0 + 5

    assert.equal(tokens.revoke(record.id), true)
    assert.equal(tokens.verify(token), null)
    assert.equal(tokens.isLive(record.id), false)
    assert.equal(tokens.get(record.id)?.revokedAt?.getTime(), T0 + 5)
    assert.equal(tokens.revoke(record.id), false, 'already revoked')
    assert.equal(tokens.revoke('tok_0000000000000000'), false, 'no such token')
  })

  test('list returns records oldest first, optionally for one agent, never the token', () => {
    const clock = { now: T0 }
    const { tokens } = memoryStore(clock)
    const first = tokens.issue('bot', HOUR)
    clock.now += 1
    const second = tokens.issue('other', HOUR)
    clock.now += 1
    const third = tokens.issue('bot', HOUR)

    assert.deepEqual(
      tokens.list().map((r) => r.id),
      [first.record.id, second.record.id, third.record.id],
    )
    assert.deepEqual(
      tokens.list('bot').map((r) => r.id),
      [first.record.id, third.record.id],
    )
    assert.deepEqual(tokens.list('nobody'), [])
    assert.ok(!JSON.stringify(tokens.list()).includes(first.token))
  })

  test('revocationsSince reports each revocation once, in order, with a rising sequence', () => {
    const { tokens } = memoryStore()
    const [a, b, c] = [1, 2, 3].map(() => tokens.issue('bot', HOUR).record.id)
    assert.deepEqual(tokens.revocationsSince(0), { ids: [], seq: 0 })

    tokens.revoke(b ?? '')
    tokens.revoke(a ?? '')
    const first = tokens.revocationsSince(0)
    assert.deepEqual(first.ids, [b, a])

    tokens.revoke(a ?? '')
    tokens.revoke(c ?? '')
    const next = tokens.revocationsSince(first.seq)
    assert.deepEqual(next.ids, [c], 'a repeated revoke is not a new revocation')
    assert.ok(next.seq > first.seq)
    assert.deepEqual(tokens.revocationsSince(next.seq), { ids: [], seq: next.seq })
  })
})

describe('TokenStore with cache: true, beside another process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-tokens-'))
  const path = join(dir, 'tollgate.db')
  const relayDb = openDatabase(path)
  const cliDb = openDatabase(path)

  after(() => {
    relayDb.close()
    cliDb.close()
    rmSync(dir, { recursive: true, force: true })
  })

  // The relay's cached store trusts rows it has verified; it learns of a revoke made by the CLI
  // on another connection only through revocationsSince + forget (its poll, or a change
  // signal). Until then the cached token still verifies: that window is by design, and bounded
  // by the relay's poll interval.
  test('a revoke elsewhere is seen after forget(ids) from revocationsSince, not before', () => {
    const relay = new TokenStore(relayDb, { cache: true })
    const cli = new TokenStore(cliDb)
    const { token, record } = cli.issue('bot', HOUR)
    const seq = relay.revocationsSince(0).seq

    assert.equal(relay.verify(token)?.id, record.id, 'verified once, now cached')
    assert.equal(relay.isLive(record.id), true)
    assert.equal(cli.revoke(record.id), true)

    assert.equal(relay.verify(token)?.id, record.id, 'stale until told')
    assert.equal(relay.isLive(record.id), true, 'stale until told')

    const seen = relay.revocationsSince(seq)
    assert.deepEqual(seen.ids, [record.id])
    relay.forget(seen.ids)
    assert.equal(relay.verify(token), null)
    assert.equal(relay.isLive(record.id), false)
  })

  test('without the cache, a revoke elsewhere is seen at once', () => {
    const relay = new TokenStore(relayDb)
    const cli = new TokenStore(cliDb)
    const { token, record } = cli.issue('bot', HOUR)

    assert.ok(relay.verify(token))
    cli.revoke(record.id)
    assert.equal(relay.verify(token), null)
    assert.equal(relay.isLive(record.id), false)
  })

  test('forget leaves other cached tokens cached, and a revoke in this store forgets its own', () => {
    const relay = new TokenStore(relayDb, { cache: true })
    const cli = new TokenStore(cliDb)
    const kept = cli.issue('bot', HOUR)
    const dropped = cli.issue('bot', HOUR)
    relay.verify(kept.token)
    relay.verify(dropped.token)

    cli.revoke(kept.record.id)
    cli.revoke(dropped.record.id)
    relay.forget([dropped.record.id])
    assert.equal(relay.verify(dropped.token), null)
    assert.ok(relay.verify(kept.token), 'still cached: only forgotten ids are re-read')

    const own = relay.issue('bot', HOUR)
    relay.verify(own.token)
    relay.revoke(own.record.id)
    assert.equal(relay.verify(own.token), null)
  })

  test('a cached token still expires on time', () => {
    const clock = { now: T0 }
    const relay = new TokenStore(relayDb, { cache: true, now: () => clock.now })
    const { token, record } = relay.issue('bot', 1000)

    assert.ok(relay.verify(token))
    clock.now = T0 + 1000
    assert.equal(relay.verify(token), null)
    assert.equal(relay.isLive(record.id), false)
  })
})
