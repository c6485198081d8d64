import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { PolicyConfig } from '../../../src/config/types.js'
import { PolicyEngine } from '../../../src/policy/engine.js'
import { TollgateError } from '../../../src/errors/tollgate-error.js'
import { agent, engineFor, policy, request, rule } from './fixtures.js'

void describe('PolicyEngine.decide, across policies', () => {
  const read = policy('read', [rule('get', { methods: ['GET'], credential: 'gh-read' })])
  const write = policy('write', [rule('all', { credential: 'gh-write', websocket: true })])
  const guard = policy('guard', [rule('no-admin', { effect: 'deny', paths: ['/admin/**'] })])

  void test('deny in a later policy beats allow in an earlier one', () => {
    const decision = engineFor(read, guard).decide(
      'bot',
      request('GET https://api.example.com/admin'),
    )
    assert.equal(decision.kind, 'deny')
    assert.equal(decision.rule?.id, 'guard/no-admin')
    assert.equal(decision.credential, null)
  })

  void test('the first allowing policy decides and its credential is chosen', () => {
    const engine = engineFor(read, write)
    const get = engine.decide('bot', request('GET https://api.example.com/x'))
    assert.deepEqual([get.rule?.id, get.credential, get.websocket], ['read/get', 'gh-read', false])

    const post = engine.decide('bot', request('POST https://api.example.com/x'))
    assert.deepEqual(
      [post.rule?.id, post.credential, post.websocket],
      ['write/all', 'gh-write', true],
    )
  })

  void test('policy order is the agent’s order, not the configuration’s', () => {
    const engine = PolicyEngine.compile([read, write], [agent('bot', ['write', 'read'])])
    assert.equal(
      engine.decide('bot', request('GET https://api.example.com/')).rule?.id,
      'write/all',
    )
  })

  void test('the websocket and plaintext flags come from the allowing rule', () => {
    const plain = rule('plain', {
      schemes: ['http'],
      allowPlaintextCredential: true,
      websocket: true,
    })
    const decision = engineFor(policy('p', [plain])).decide(
      'bot',
      request('GET http://api.example.com/'),
    )
    assert.deepEqual([decision.websocket, decision.allowPlaintextCredential], [true, true])
  })

  void test('an agent is decided only on its own policies', () => {
    const engine = PolicyEngine.compile(
      [read, write],
      [agent('a', ['read']), agent('b', ['write'])],
    )
    assert.equal(engine.decide('a', request('POST https://api.example.com/')).kind, 'deny')
    assert.equal(engine.decide('b', request('POST https://api.example.com/')).kind, 'allow')
  })
})

void describe('PolicyEngine, edges', () => {
  const engine = engineFor(policy('p', [rule('r')]))

  void test('an unknown agent is denied without a rule and nothing is thrown', () => {
    const decision = engine.decide('nobody', request('GET https://api.example.com/'))
    assert.deepEqual(
      [decision.kind, decision.code, decision.rule],
      ['deny', 'TOLLGATE_POLICY_NO_MATCH', null],
    )
  })

  void test('an agent without policies is denied everything', () => {
    const bare = PolicyEngine.compile([], [agent('bare', [])])
    assert.equal(bare.decide('bare', request('GET https://api.example.com/')).kind, 'deny')
    assert.equal(bare.mayConnect('bare', 'api.example.com', 443), false)
  })

  void test('decisions are frozen so a caller cannot change a shared one', () => {
    const decision = engine.decide('bot', request('GET https://api.example.com/'))
    assert.throws(() => {
      ;(decision as { credential: string | null }).credential = 'stolen'
    }, TypeError)
  })

  void test('ruleCount counts each rule once', () => {
    const shared = policy('shared', [rule('a'), rule('b')])
    const counted = PolicyEngine.compile([shared], [agent('x', ['shared']), agent('y', ['shared'])])
    assert.equal(counted.ruleCount(), 2)
  })

  void test('compile refuses an unknown policy and a duplicate policy name', () => {
    const unknown = (): PolicyEngine => PolicyEngine.compile([], [agent('x', ['missing'])])
    assert.throws(
      unknown,
      (error) => error instanceof TollgateError && error.code === 'TOLLGATE_CONFIG_INVALID',
    )

    const twice: PolicyConfig[] = [policy('p', []), policy('p', [])]
    assert.throws(() => PolicyEngine.compile(twice, []), /defined twice/)
  })
})
