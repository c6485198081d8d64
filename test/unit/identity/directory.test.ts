import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { AgentConfig } from '../../../src/config/types.js'
import { Directory } from '../../../src/identity/directory.js'

function agent(name: string, owner: string, team = 'platform'): AgentConfig {
  return { name, owner, team, policies: [], description: null }
}

describe('Directory', () => {
  const directory = new Directory({
    people: [
      { email: 'alice@example.com', name: 'Alice', teams: ['platform'] },
      { email: 'bob@example.com', name: null, teams: [] },
    ],
    agents: [
      agent('bot', 'alice@example.com'),
      agent('reviewer', 'bob@example.com', 'security'),
      agent('orphan', 'carol@example.com'),
    ],
  })

  test('resolves an agent to its owner and team', () => {
    assert.deepEqual(directory.resolveAgent('bot'), {
      agent: 'bot',
      owner: 'alice@example.com',
      team: 'platform',
    })
    assert.equal(directory.resolveAgent('reviewer')?.team, 'security')
    assert.equal(directory.hasAgent('bot'), true)
  })

  test('an agent whose owner is not a known person does not resolve', () => {
    assert.equal(directory.resolveAgent('orphan'), null)
    assert.equal(directory.hasAgent('orphan'), false)
  })

  test('unknown names, other case and prototype names do not resolve', () => {
    for (const name of ['nobody', 'BOT', '', '__proto__', 'constructor', 'toString']) {
      assert.equal(directory.resolveAgent(name), null, name)
    }
  })

  test('agents() lists every configured agent, resolvable or not', () => {
    assert.deepEqual(
      directory.agents().map((a) => a.name),
      ['bot', 'reviewer', 'orphan'],
    )
  })
})
