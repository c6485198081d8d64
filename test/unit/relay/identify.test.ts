import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { AgentConfig, PersonConfig } from '../../../src/config/types.js'
import { isTollgateError } from '../../../src/errors/tollgate-error.js'
import { Directory } from '../../../src/identity/directory.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import {
  AgentMismatchError,
  authenticate,
  currentCaller,
  refusedCaller,
  type Caller,
} from '../../../src/relay/identify.js'
import { openDatabase } from '../../../src/store/database.js'
import { assertRefused } from './target/refusal.js'

const HOUR = 3_600_000

function person(email: string, teams: string[]): PersonConfig {
  return { email, name: null, teams }
}

function agent(name: string, owner: string, team: string): AgentConfig {
  return { name, owner, team, policies: [], description: null }
}

const PEOPLE = [person('alice@example.com', ['platform']), person('bob@example.com', ['research'])]

function directoryOf(...agents: AgentConfig[]): Directory {
  return new Directory({ people: PEOPLE, agents })
}

describe('authenticate: a misnamed token names its own agent, to the trail only', () => {
  const tokens = new TokenStore(openDatabase(':memory:'))
  const directory = directoryOf(
    agent('bot', 'alice@example.com', 'platform'),
    agent('other', 'bob@example.com', 'research'),
  )
  const bot = tokens.issue('bot', HOUR)

  test("a valid token under another agent's name is refused, and the refusal names its agent", () => {
    let refusal: unknown = null
    try {
      authenticate({ agent: 'other', token: bot.token }, tokens, directory)
    } catch (error) {
      refusal = error
    }
    assert.ok(refusal instanceof AgentMismatchError)
    assert.equal(refusal.code, 'TOLLGATE_AUTH_AGENT_MISMATCH')
    assert.equal(refusal.status, 407)
    assert.equal(refusal.publicMessage, 'the token belongs to another agent', 'nobody named')
    assert.deepEqual(refusedCaller(refusal), {
      agent: 'bot',
      owner: 'alice@example.com',
      team: 'platform',
      tokenId: bot.record.id,
      sandboxId: null,
    })
  })

  test('other refusals name nobody', () => {
    const attempts = [
      { agent: 'bot', token: 'tgt_' + 'A'.repeat(43) },
      { agent: null, token: 'not a token' },
    ]
    for (const credentials of attempts) {
      try {
        authenticate(credentials, tokens, directory)
        assert.fail('refused')
      } catch (error) {
        assert.ok(isTollgateError(error))
        assert.equal(error.code, 'TOLLGATE_AUTH_INVALID')
        assert.equal(refusedCaller(error), null)
      }
    }
    assert.equal(refusedCaller(new Error('plain')), null)
  })

  test('a token whose agent is gone is invalid, whatever name it comes with', () => {
    const orphan = tokens.issue('gone', HOUR)
    for (const name of ['gone', 'bot', null]) {
      const credentials = { agent: name, token: orphan.token }
      assertRefused(
        () => authenticate(credentials, tokens, directory),
        'TOLLGATE_AUTH_INVALID',
        name ?? 'bearer',
      )
    }
  })
})

describe('currentCaller', () => {
  const caller: Caller = {
    agent: 'bot',
    owner: 'alice@example.com',
    team: 'platform',
    tokenId: null,
    sandboxId: 'sbx_1',
    overlay: ['narrow'],
  }

  test('takes the owner and team the directory gives the agent now, and keeps the rest', () => {
    const moved = directoryOf(agent('bot', 'bob@example.com', 'research'))
    assert.deepEqual(currentCaller(caller, moved), {
      ...caller,
      owner: 'bob@example.com',
      team: 'research',
    })
  })

  test('is null once the agent is gone from the directory', () => {
    assert.equal(currentCaller(caller, directoryOf(agent('other', 'bob@example.com', 'x'))), null)
    // An agent whose owner is no longer a person does not resolve either.
    const orphaned = new Directory({ people: [], agents: [agent('bot', 'alice@example.com', 'p')] })
    assert.equal(currentCaller(caller, orphaned), null)
  })
})
