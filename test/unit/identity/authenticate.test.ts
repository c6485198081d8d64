import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { ErrorCode } from '../../../src/errors/codes.js'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import { Directory } from '../../../src/identity/directory.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import {
  authenticate,
  parseApiKeyToken,
  parseProxyAuthorization,
} from '../../../src/relay/identify.js'
import { openDatabase, type Database } from '../../../src/store/database.js'

const HOUR = 3_600_000

function basic(text: string): string {
  return 'Basic ' + Buffer.from(text, 'utf8').toString('base64')
}

function assertCode(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => isTollgateError(error) && error.code === code, code)
}

describe('parseProxyAuthorization', () => {
  test('Basic carries AGENT:TOKEN; the token may itself hold colons', () => {
    assert.deepEqual(parseProxyAuthorization(basic('bot:tgt_abc')), {
      agent: 'bot',
      token: 'tgt_abc',
    })
    assert.deepEqual(parseProxyAuthorization(basic('bot:a:b')), { agent: 'bot', token: 'a:b' })
    assert.deepEqual(parseProxyAuthorization(basic(':tok')), { agent: '', token: 'tok' })
  })

  test('the scheme is case-insensitive and the agent name is URL-decoded', () => {
    const value = 'bAsIc ' + Buffer.from('my%2Dbot:t').toString('base64')
    assert.deepEqual(parseProxyAuthorization(value), { agent: 'my-bot', token: 't' })
    // Clients put `http://AGENT:TOKEN@…` into userinfo; a stray % is kept as written.
    assert.deepEqual(parseProxyAuthorization(basic('bot%zz:t')), { agent: 'bot%zz', token: 't' })
  })

  test('Bearer carries the token alone', () => {
    assert.deepEqual(parseProxyAuthorization('Bearer tgt_abc'), { agent: null, token: 'tgt_abc' })
    assert.deepEqual(parseProxyAuthorization('BEARER   tgt_abc  '), {
      agent: null,
      token: 'tgt_abc',
    })
  })

  test('no header, an unknown scheme or no scheme at all asks for credentials', () => {
    assertCode(() => parseProxyAuthorization(null), 'TOLLGATE_AUTH_REQUIRED')
    assertCode(() => parseProxyAuthorization('Digest x'), 'TOLLGATE_AUTH_REQUIRED')
    assertCode(() => parseProxyAuthorization(''), 'TOLLGATE_AUTH_REQUIRED')
    assertCode(() => parseProxyAuthorization('tgt_abc'), 'TOLLGATE_AUTH_REQUIRED')
  })

  test('a scheme glued to what follows it is no scheme, whatever its first letters', () => {
    for (const value of ['BasicX', 'BasicYm90OnQ=', 'bearerX', 'Bearertgt_abc', 'Basic']) {
      assertCode(() => parseProxyAuthorization(value), 'TOLLGATE_AUTH_REQUIRED')
    }
  })

  test('Basic without a colon, or with base64 that is not base64, is invalid', () => {
    assertCode(() => parseProxyAuthorization(basic('botonly')), 'TOLLGATE_AUTH_INVALID')
    assertCode(() => parseProxyAuthorization('Basic !!!!'), 'TOLLGATE_AUTH_INVALID')
    assertCode(() => parseProxyAuthorization('Basic '), 'TOLLGATE_AUTH_INVALID')
  })
})

describe('parseApiKeyToken', () => {
  test('an API-key header wins over Authorization and is trimmed', () => {
    assert.deepEqual(parseApiKeyToken('Bearer other', ' tgt_key '), {
      agent: null,
      token: 'tgt_key',
    })
  })

  test('otherwise a single Bearer token is read from Authorization', () => {
    assert.deepEqual(parseApiKeyToken('bearer  tgt_x ', null), { agent: null, token: 'tgt_x' })
  })

  test('anything else asks for credentials', () => {
    for (const header of [null, 'Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'tgt_x']) {
      assertCode(() => parseApiKeyToken(header, null), 'TOLLGATE_AUTH_REQUIRED')
    }
  })
})

describe('authenticate', () => {
  let db: Database
  let now = Date.parse('2026-01-01T00:00:00Z')
  let tokens: TokenStore
  const directory = new Directory({
    people: [{ email: 'alice@example.com', name: null, teams: ['platform'] }],
    agents: [
      agent('bot', 'alice@example.com'),
      // Its owner is not in the directory: it must not resolve.
      agent('orphan', 'gone@example.com'),
    ],
  })

  before(() => {
    db = openDatabase(':memory:')
    tokens = new TokenStore(db, { now: () => now })
  })

  after(() => db.close())

  test('a live token for a known agent yields the caller with owner and team', () => {
    const { token, record } = tokens.issue('bot', HOUR)
    const caller = authenticate(parseProxyAuthorization(basic(`bot:${token}`)), tokens, directory)

    assert.deepEqual(caller, {
      agent: 'bot',
      owner: 'alice@example.com',
      team: 'platform',
      tokenId: record.id,
      sandboxId: null,
    })
    assert.equal(authenticate({ agent: null, token }, tokens, directory).tokenId, record.id)
  })

  test('a token presented under another agent name is a mismatch', () => {
    const { token } = tokens.issue('bot', HOUR)
    assertCode(
      () => authenticate({ agent: 'other', token }, tokens, directory),
      'TOLLGATE_AUTH_AGENT_MISMATCH',
    )
  })

  test('an unknown, malformed or empty token is invalid', () => {
    const unknown = 'tgt_' + 'A'.repeat(43)
    for (const token of [unknown, 'not-a-token', '', 'tgt_short']) {
      assertCode(
        () => authenticate({ agent: 'bot', token }, tokens, directory),
        'TOLLGATE_AUTH_INVALID',
      )
    }
  })

  test('a token of an agent not in the directory, or whose owner left, is invalid', () => {
    for (const name of ['removed', 'orphan']) {
      const { token } = tokens.issue(name, HOUR)
      assertCode(
        () => authenticate({ agent: null, token }, tokens, directory),
        'TOLLGATE_AUTH_INVALID',
      )
    }
  })

  test('an expired token is invalid from the moment it expires', () => {
    const { token } = tokens.issue('bot', 1000)
    now += 999
    assert.equal(authenticate({ agent: null, token }, tokens, directory).agent, 'bot')
    now += 1
    assertCode(
      () => authenticate({ agent: null, token }, tokens, directory),
      'TOLLGATE_AUTH_INVALID',
    )
  })

  test('a revoked token is invalid at once', () => {
    const { token, record } = tokens.issue('bot', HOUR)
    assert.equal(authenticate({ agent: 'bot', token }, tokens, directory).tokenId, record.id)
    assert.equal(tokens.revoke(record.id), true)
    assertCode(
      () => authenticate({ agent: 'bot', token }, tokens, directory),
      'TOLLGATE_AUTH_INVALID',
    )
  })

  test('error messages never carry the presented token', () => {
    const { token, record } = tokens.issue('bot', HOUR)
    tokens.revoke(record.id)
    for (const agentName of ['bot', 'other']) {
      try {
        authenticate({ agent: agentName, token }, tokens, directory)
        assert.fail('expected a refusal')
      } catch (error) {
        assert.ok(isTollgateError(error))
        assert.ok(!error.message.includes(token))
      }
    }
  })
})

function agent(name: string, owner: string) {
  return { name, owner, team: 'platform', policies: [], description: null }
}
