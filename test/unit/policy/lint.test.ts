import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { PolicyConfig } from '../../../src/config/types.js'
import { lintPolicies, type LintFinding } from '../../../src/policy/lint.js'
import { ruleCovers } from '../../../src/policy/rule-coverage.js'
import { agent, config, credential, policy, rule } from './fixtures.js'

/** Lints policies used by one agent, so "unused policy" does not clutter every case. */
function lint(
  policies: PolicyConfig[],
  credentials = [credential('gh', ['*.github.com'])],
): LintFinding[] {
  const agents = [
    agent(
      'bot',
      policies.map((p) => p.name),
    ),
  ]
  return lintPolicies(config({ policies, agents, credentials }))
}

function codes(findings: LintFinding[]): string[] {
  return findings.map((f) => `${f.severity}:${f.code}:${f.policy ?? '-'}/${f.rule ?? '-'}`)
}

void describe('lintPolicies, hosts and credentials', () => {
  void test('a clean policy has no findings', () => {
    const clean = policy('p', [
      rule('read', { hosts: ['api.github.com'], methods: ['GET'], credential: 'gh' }),
    ])
    assert.deepEqual(lint([clean]), [])
  })

  void test('flags an allow rule for any host and for a whole TLD, but not a wide deny', () => {
    const p = policy('p', [
      rule('any', { hosts: ['*'], paths: ['/x'] }),
      rule('tld', { hosts: ['*.com'], paths: ['/y'] }),
      rule('shut', { effect: 'deny', hosts: ['*'], paths: ['/admin/**'] }),
    ])
    assert.deepEqual(codes(lint([p])), [
      'error:POLICY_WILDCARD_HOST:p/any',
      'error:POLICY_PUBLIC_SUFFIX:p/tld',
    ])
  })

  void test('warns about a credential injected for every method and path', () => {
    const p = policy('p', [rule('all', { hosts: ['api.github.com'], credential: 'gh' })])
    assert.deepEqual(codes(lint([p])), ['warning:POLICY_BROAD_CREDENTIAL:p/all'])
  })

  void test('flags unknown credentials, credentials on deny rules and unbound hosts', () => {
    const p = policy('p', [
      rule('unknown', { hosts: ['api.github.com'], methods: ['GET'], credential: 'nope' }),
      rule('deny', { effect: 'deny', hosts: ['x.example.com'], credential: 'gh' }),
      rule('unbound', { hosts: ['api.example.com'], methods: ['GET'], credential: 'gh' }),
    ])
    assert.deepEqual(codes(lint([p])), [
      'error:POLICY_UNKNOWN_CREDENTIAL:p/unknown',
      'warning:POLICY_CREDENTIAL_ON_DENY:p/deny',
      'warning:POLICY_CREDENTIAL_HOST:p/unbound',
    ])
  })

  void test('flags a rule without hosts and a repeated rule name', () => {
    const p = policy('p', [rule('a', { hosts: [], paths: ['/1'] }), rule('a', { paths: ['/2'] })])
    assert.deepEqual(codes(lint([p])), [
      'error:POLICY_RULE_NO_HOSTS:p/a',
      'error:POLICY_DUPLICATE_RULE:p/a',
    ])
  })
})

void describe('lintPolicies, rules that never decide', () => {
  void test('a rule covered by an earlier rule of the same effect is shadowed', () => {
    const p = policy('p', [
      rule('wide', { hosts: ['*.example.com'], paths: ['/repos/**'] }),
      rule('narrow', { hosts: ['a.example.com'], methods: ['GET'], paths: ['/repos/*/issues'] }),
    ])
    assert.deepEqual(codes(lint([p])), ['warning:POLICY_SHADOWED_RULE:p/narrow'])
  })

  void test('a rule covered by a later rule, or by a rule of the other effect, is not shadowed', () => {
    const p = policy('p', [
      rule('narrow', { paths: ['/a'] }),
      rule('wide', { paths: ['/**'], methods: ['GET'] }),
    ])
    assert.deepEqual(codes(lint([p])), [])
  })

  void test('an allow rule fully covered by a deny rule is dead, wherever the deny is', () => {
    const p = policy('p', [
      rule('reads', { methods: ['GET'], paths: ['/admin/users'] }),
      rule('no-admin', { effect: 'deny', paths: ['/admin/**'] }),
    ])
    assert.deepEqual(codes(lint([p])), ['error:POLICY_DEAD_RULE:p/reads'])
  })
})

void describe('lintPolicies, agents', () => {
  void test('warns about monitor-only agents, agents without policies and unused policies', () => {
    const watch = policy('watch', [rule('r', { paths: ['/x'] })], 'report')
    const spare = policy('spare', [rule('r', { paths: ['/x'] })])
    const found = lintPolicies(
      config({ policies: [watch, spare], agents: [agent('bot', ['watch']), agent('idle', [])] }),
    )
    assert.deepEqual(
      found.map((f) => [f.code, f.agent, f.policy]),
      [
        ['POLICY_MONITOR_ONLY_AGENT', 'bot', null],
        ['POLICY_AGENT_WITHOUT_POLICY', 'idle', null],
        ['POLICY_UNUSED', null, 'spare'],
      ],
    )
  })

  void test('an agent naming a missing policy is an error', () => {
    const found = lintPolicies(config({ policies: [], agents: [agent('bot', ['ghost'])] }))
    assert.deepEqual(codes(found), ['error:POLICY_UNKNOWN_POLICY:ghost/-'])
  })
})

void describe('ruleCovers', () => {
  void test('compares endpoints, hosts, methods and paths', () => {
    const base = rule('base', { schemes: ['https', 'http'], hosts: ['*.x.com'], paths: ['/a/**'] })
    assert.equal(ruleCovers(base, rule('n', { hosts: ['a.x.com'], paths: ['/a/b/*'] })), true)
    assert.equal(ruleCovers(base, rule('n', { hosts: ['x.com'], paths: ['/a/b'] })), false)
    assert.equal(
      ruleCovers(base, rule('n', { hosts: ['a.x.com'], ports: [8443], paths: ['/a'] })),
      false,
    )
    assert.equal(ruleCovers(base, rule('n', { hosts: ['a.x.com'], paths: ['/b/**'] })), false)
    assert.equal(ruleCovers(rule('m', { methods: ['GET'] }), rule('n')), false)
    assert.equal(ruleCovers(rule('m', { paths: ['/*/x'] }), rule('n', { paths: ['/a/*'] })), false)
  })
})
