import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PolicyEngine } from '../../../src/policy/engine.js'
import { explainDecision, formatExplanation } from '../../../src/policy/explain.js'
import { targetFromUrl } from '../../../src/policy/target-from-url.js'
import { agent, config, policy, rule } from './fixtures.js'

const policies = [
  policy('github', [
    rule('read', { hosts: ['*.github.com'], methods: ['GET'], credential: 'gh' }),
    rule('no-admin', { effect: 'deny', hosts: ['api.github.com'], paths: ['/admin/**'] }),
  ]),
  policy('strict', [rule('read-only', { hosts: ['*'], methods: ['GET'] })], 'report'),
]
const cfg = config({ policies, agents: [agent('bot', ['github', 'strict'])] })
const engine = PolicyEngine.compile(cfg.policies, cfg.agents)

void describe('explainDecision', () => {
  void test('gives the decision and every matching rule in evaluation order', () => {
    const result = explainDecision(
      engine,
      cfg,
      'bot',
      'get',
      'https://API.GitHub.com./admin/x?token=s3cret',
    )

    assert.deepEqual(result.target, {
      scheme: 'https',
      host: 'api.github.com',
      port: 443,
      method: 'GET',
      path: '/admin/x',
    })
    assert.deepEqual([result.decision.kind, result.decision.rule?.id], ['deny', 'github/no-admin'])
    assert.deepEqual(
      result.matches.map((m) => `${m.effect} ${m.id} ${m.mode}`),
      [
        'allow github/read enforce',
        'deny github/no-admin enforce',
        'allow strict/read-only report',
      ],
    )
  })

  void test('formats an allow with its credential and never prints the query', () => {
    const text = formatExplanation(
      explainDecision(engine, cfg, 'bot', 'GET', 'https://api.github.com/r?token=s3cret'),
    )

    assert.equal(
      text,
      [
        'agent:      bot',
        'request:    GET https://api.github.com:443/r',
        'decision:   allow',
        'rule:       github/read',
        'credential: gh',
        'matched:',
        '  allow github/read [enforce] credential=gh',
        '  allow strict/read-only [report]',
      ].join('\n'),
    )
  })

  void test('an unknown agent is reported and denied', () => {
    const result = explainDecision(engine, cfg, 'ghost', 'GET', 'https://api.github.com/')
    assert.equal(result.agentKnown, false)
    assert.equal(result.decision.code, 'TOLLGATE_POLICY_NO_MATCH')
    assert.match(formatExplanation(result), /ghost \(unknown agent\)[\s\S]*matched: {4}no rule/)
  })
})

void describe('targetFromUrl', () => {
  void test('canonicalises ports, IPv6 and dot segments', () => {
    assert.deepEqual(targetFromUrl('post', 'http://[::1]:8080/a/../b'), {
      scheme: 'http',
      host: '::1',
      port: 8080,
      method: 'POST',
      path: '/b',
    })
    assert.equal(targetFromUrl('GET', 'https://x.example:443').port, 443)
  })

  void test('refuses other schemes and relative URLs without echoing them', () => {
    assert.throws(() => targetFromUrl('GET', 'ftp://x.example/'), {
      code: 'TOLLGATE_UNSUPPORTED_SCHEME',
    })
    assert.throws(
      () => targetFromUrl('GET', '/secret-path?k=v'),
      (error: Error) => !error.message.includes('secret'),
    )
  })
})
