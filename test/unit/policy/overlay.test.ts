import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PolicyEngine } from '../../../src/policy/engine.js'
import type { Decision } from '../../../src/policy/request-target.js'
import { agent, policy, request, rule } from './fixtures.js'

const READ = request('GET https://api.example.com/repos/x')
const WRITE = request('POST https://api.example.com/repos/x')
const OTHER = request('GET https://other.example.com/')

/** The agent's own policy: reads and writes on api.example.com with a credential, and other. */
const base = policy('base', [
  rule('api', { credential: 'gh', websocket: true }),
  rule('other', { hosts: ['other.example.com'] }),
])
const readOnly = policy('read-only', [
  rule('reads', { methods: ['GET'], credential: 'overlay-cred', websocket: false }),
])
const noOther = policy('no-other', [
  rule('block-other', { effect: 'deny', hosts: ['other.example.com'] }),
])
const reportReads = policy('report-reads', [rule('reads', { methods: ['GET'] })], 'report')
const wider = policy('wider', [rule('everything', { hosts: ['*'] })])

const policies = [base, readOnly, noOther, reportReads, wider]
const engine = PolicyEngine.compile(policies, [agent('bot', ['base']), agent('empty', [])])

function summary(decision: Decision) {
  return [decision.kind, decision.code, decision.rule?.id ?? null, decision.credential]
}

void describe('policy overlays narrow the agent', () => {
  void test('without an overlay the agent decides alone', () => {
    assert.deepEqual(summary(engine.decide('bot', WRITE)), ['allow', null, 'base/api', 'gh'])
    assert.deepEqual(summary(engine.decide('bot', WRITE, [])), ['allow', null, 'base/api', 'gh'])
  })

  void test("allowed by both: the agent's rule decides and its credential is injected", () => {
    const decision = engine.decide('bot', READ, ['read-only'])
    assert.deepEqual(summary(decision), ['allow', null, 'base/api', 'gh'])
  })

  void test('no overlay rule matches: denied as "overlay: no rule matched"', () => {
    const decision = engine.decide('bot', WRITE, ['read-only'])
    assert.deepEqual(summary(decision), [
      'deny',
      'TOLLGATE_POLICY_NO_MATCH',
      'overlay: no rule matched',
      null,
    ])
  })

  void test('an overlay deny rule wins over the agent allow', () => {
    const decision = engine.decide('bot', OTHER, ['no-other'])
    assert.deepEqual(summary(decision), [
      'deny',
      'TOLLGATE_POLICY_DENIED',
      'no-other/block-other',
      null,
    ])
  })

  void test('an overlay of deny rules only denies what no allow rule matches', () => {
    // no-other has no allow rule: it is an enforce-mode policy, so nothing else matches either.
    const decision = engine.decide('bot', READ, ['no-other'])
    assert.deepEqual(summary(decision).slice(0, 3), [
      'deny',
      'TOLLGATE_POLICY_NO_MATCH',
      'overlay: no rule matched',
    ])
  })

  void test('an overlay cannot widen: what the agent denies stays denied', () => {
    const outside = request('GET https://elsewhere.example.net/')
    const decision = engine.decide('bot', outside, ['wider'])
    assert.deepEqual(summary(decision), ['deny', 'TOLLGATE_POLICY_NO_MATCH', null, null])
    assert.equal(engine.decide('empty', READ, ['wider']).kind, 'deny')
  })

  void test('several overlays: every one must allow, and any deny wins', () => {
    const decision = engine.decide('bot', OTHER, ['wider', 'no-other'])
    assert.equal(decision.kind, 'deny')
    assert.equal(decision.rule?.id, 'no-other/block-other')
    assert.equal(engine.decide('bot', READ, ['wider', 'read-only']).kind, 'allow')
  })

  void test("a WebSocket passes only if the overlay's allowing rule allows it too", () => {
    assert.equal(engine.decide('bot', READ).websocket, true)
    assert.equal(engine.decide('bot', READ, ['read-only']).websocket, false)
    assert.equal(engine.decide('bot', READ, ['wider']).websocket, false)
  })

  void test('a report-mode overlay records would_deny and still forwards with the credential', () => {
    const decision = engine.decide('bot', WRITE, ['report-reads'])
    assert.deepEqual(summary(decision), [
      'would_deny',
      'TOLLGATE_POLICY_NO_MATCH',
      'overlay: no rule matched',
      'gh',
    ])
    assert.deepEqual(summary(engine.decide('bot', READ, ['report-reads'])), [
      'allow',
      null,
      'base/api',
      'gh',
    ])
  })

  void test('an overlay naming a policy the configuration lacks denies everything', () => {
    const decision = engine.decide('bot', READ, ['read-only', 'gone'])
    assert.deepEqual(summary(decision), [
      'deny',
      'TOLLGATE_POLICY_NO_MATCH',
      'overlay: policy gone is not in config',
      null,
    ])
    assert.equal(engine.mayConnect('bot', 'api.example.com', 443, ['gone']), false)
  })

  void test('a method override is decided under the overlay too', () => {
    // The relay decides an overridden method with the same call: DELETE is outside read-only.
    const decision = engine.decide('bot', { ...READ, method: 'DELETE' }, ['read-only'])
    assert.equal(decision.kind, 'deny')
  })
})

void describe('overlays and CONNECT', () => {
  void test('mayConnect needs the overlay to allow some https request there', () => {
    assert.equal(engine.mayConnect('bot', 'other.example.com', 443), true)
    assert.equal(engine.mayConnect('bot', 'other.example.com', 443, ['read-only']), false)
    assert.equal(engine.mayConnect('bot', 'other.example.com', 443, ['no-other']), false)
    assert.equal(engine.mayConnect('bot', 'api.example.com', 443, ['read-only']), true)
  })

  void test('a refused CONNECT names the overlay as the reason', () => {
    const connect = engine.decideConnect('bot', 'other.example.com', 443, ['read-only'])
    assert.equal(connect.kind, 'refuse')
    assert.equal(connect.kind === 'refuse' && connect.decision.rule?.id, 'overlay: no rule matched')
  })

  void test('a report-only overlay does not narrow CONNECT', () => {
    assert.equal(engine.mayConnect('bot', 'other.example.com', 443, ['report-reads']), true)
  })
})
