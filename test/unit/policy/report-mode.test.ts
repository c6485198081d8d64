import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PolicyEngine } from '../../../src/policy/engine.js'
import { agent, engineFor, policy, request, rule } from './fixtures.js'

const GET = request('GET https://api.example.com/repos/x')
const DELETE = request('DELETE https://api.example.com/repos/x')
const OTHER = request('GET https://other.example.com/')

void describe('report mode, agent with report policies only (monitor-only)', () => {
  const watch = policy(
    'watch',
    [rule('read', { methods: ['GET'], credential: 'gh', websocket: true })],
    'report',
  )
  const engine = engineFor(watch)

  void test('a request the report policy allows is allowed, from its rule', () => {
    const decision = engine.decide('bot', GET)
    assert.deepEqual(
      [decision.kind, decision.code, decision.rule?.id, decision.credential, decision.websocket],
      ['allow', null, 'watch/read', 'gh', true],
    )
  })

  void test('a request it would not allow is forwarded as would_deny without a credential', () => {
    const decision = engine.decide('bot', DELETE)
    assert.deepEqual(
      [decision.kind, decision.code, decision.rule, decision.credential, decision.websocket],
      ['would_deny', 'TOLLGATE_POLICY_NO_MATCH', null, null, false],
    )
  })

  void test('a report deny rule gives would_deny naming that rule', () => {
    const guard = policy(
      'guard',
      [rule('no-delete', { effect: 'deny', methods: ['DELETE'] })],
      'report',
    )
    const decision = engineFor(watch, guard).decide('bot', DELETE)
    assert.deepEqual(
      [decision.kind, decision.code, decision.rule?.id],
      ['would_deny', 'TOLLGATE_POLICY_DENIED', 'guard/no-delete'],
    )
  })

  void test('a monitor-only agent may connect anywhere', () => {
    assert.equal(engine.mayConnect('bot', 'unrelated.example', 8443), true)
  })
})

void describe('report mode, mixed enforce and report policies', () => {
  const base = policy('base', [
    rule('all', { credential: 'gh-token', allowPlaintextCredential: true, websocket: true }),
    rule('no-admin', { effect: 'deny', paths: ['/admin/**'] }),
  ])
  const strict = policy(
    'strict',
    [
      rule('read', { methods: ['GET'] }),
      rule('no-delete', { effect: 'deny', methods: ['DELETE'] }),
    ],
    'report',
  )
  const engine = engineFor(base, strict)

  void test('enforce allow and report allow → allow from the enforced rule', () => {
    const decision = engine.decide('bot', GET)
    assert.deepEqual(
      [decision.kind, decision.rule?.id, decision.credential],
      ['allow', 'base/all', 'gh-token'],
    )
  })

  void test('report deny over enforce allow → would_deny, forwarded with the enforced credential', () => {
    const decision = engine.decide('bot', DELETE)
    assert.deepEqual(
      [
        decision.kind,
        decision.code,
        decision.rule?.id,
        decision.credential,
        decision.websocket,
        decision.allowPlaintextCredential,
      ],
      ['would_deny', 'TOLLGATE_POLICY_DENIED', 'strict/no-delete', 'gh-token', true, true],
    )
  })

  void test('report no-match never turns an enforced allow into would_deny when another rule allows', () => {
    const decision = engine.decide('bot', request('POST https://api.example.com/repos'))
    assert.equal(decision.kind, 'allow')
  })

  void test('enforce deny stays a deny whatever report policies say', () => {
    const decision = engine.decide('bot', request('GET https://api.example.com/admin/users'))
    assert.deepEqual([decision.kind, decision.rule?.id], ['deny', 'base/no-admin'])
  })

  void test('enforce no-match stays a deny even when a report policy would allow', () => {
    const wide = policy('wide', [rule('any', { hosts: ['*'] })], 'report')
    const decision = engineFor(base, wide).decide('bot', OTHER)
    assert.deepEqual([decision.kind, decision.code], ['deny', 'TOLLGATE_POLICY_NO_MATCH'])
  })

  void test('report rules do not widen mayConnect', () => {
    const wide = policy('wide', [rule('any', { hosts: ['*'] })], 'report')
    assert.equal(engineFor(base, wide).mayConnect('bot', 'other.example.com', 443), false)
  })
})

void describe('mayConnect', () => {
  const engine = PolicyEngine.compile(
    [
      policy('gh', [
        rule('api', { hosts: ['*.github.com'], methods: ['GET'] }),
        rule('uploads', { hosts: ['uploads.example.com'], ports: [8443] }),
        rule('plain', { hosts: ['plain.example.com'], schemes: ['http'] }),
      ]),
      policy('shut', [
        rule('gist', { effect: 'deny', hosts: ['gist.github.com'] }),
        rule('partial', { effect: 'deny', hosts: ['api.github.com'], paths: ['/admin/**'] }),
      ]),
    ],
    [agent('bot', ['gh', 'shut'])],
  )

  const cases: Array<[host: string, port: number, expected: boolean]> = [
    ['api.github.com', 443, true],
    ['github.com', 443, false],
    ['api.github.com', 8443, false],
    ['uploads.example.com', 8443, true],
    ['uploads.example.com', 443, false],
    ['plain.example.com', 80, false],
    ['plain.example.com', 443, false],
    ['gist.github.com', 443, false],
  ]

  for (const [host, port, expected] of cases) {
    void test(`${host}:${port} → ${expected}`, () => {
      assert.equal(engine.mayConnect('bot', host, port), expected)
    })
  }

  void test('an unknown agent may not connect', () => {
    assert.equal(engine.mayConnect('nobody', 'api.github.com', 443), false)
  })
})
