import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfigText } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/config/config-error.js'
import { PolicyEngine } from '../../../src/policy/engine.js'
import type { ConnectDecision } from '../../../src/policy/connect-decision.js'
import {
  explainConnect,
  explainDecision,
  formatConnectExplanation,
} from '../../../src/policy/explain.js'
import { lintPolicies } from '../../../src/policy/lint.js'
import { agent, config, policy, request, rule } from './fixtures.js'

const ssh = rule('ssh', { hosts: ['git.example.com'], ports: [22], tunnel: 'opaque' })
const https = rule('web', { hosts: ['git.example.com'] })
const git = policy('git', [ssh, https])

function summary(connect: ConnectDecision) {
  if (connect.kind === 'intercept') return ['intercept']
  return [connect.kind, connect.decision.kind, connect.decision.rule?.id ?? null]
}

void describe('opaque-tunnel rules in the engine', () => {
  const engine = PolicyEngine.compile([git], [agent('bot', ['git'])])

  void test('a CONNECT to the rule host and port is opaque, decided by that rule', () => {
    const connect = engine.decideConnect('bot', 'git.example.com', 22)
    assert.deepEqual(summary(connect), ['opaque', 'allow', 'git/ssh'])
    assert.equal(engine.mayConnect('bot', 'git.example.com', 22), false)
  })

  void test('another port of the same host keeps the intercepted path', () => {
    assert.deepEqual(summary(engine.decideConnect('bot', 'git.example.com', 443)), ['intercept'])
    assert.deepEqual(summary(engine.decideConnect('bot', 'git.example.com', 2222)), [
      'refuse',
      'deny',
      null,
    ])
  })

  void test('an opaque rule never allows an HTTP request', () => {
    const target = request('GET https://git.example.com:22/x')
    assert.equal(engine.decide('bot', target).kind, 'deny')
    assert.deepEqual(
      explainDecision(
        engine,
        config({ policies: [git], agents: [agent('bot', ['git'])] }),
        'bot',
        'GET',
        'https://git.example.com:22/',
      ).matches,
      [],
    )
  })

  void test('a deny rule covering the port shuts the tunnel, whatever the policy order', () => {
    const guard = policy('guard', [
      rule('no-ssh', { effect: 'deny', hosts: ['*.example.com'], ports: [22] }),
    ])
    const denied = PolicyEngine.compile([git, guard], [agent('bot', ['git', 'guard'])])
    assert.deepEqual(summary(denied.decideConnect('bot', 'git.example.com', 22)), [
      'refuse',
      'deny',
      'guard/no-ssh',
    ])
  })

  void test('a deny rule limited to some paths or methods does not shut a tunnel', () => {
    const narrow = policy('narrow', [
      rule('no-admin', { effect: 'deny', hosts: ['git.example.com'], ports: [22], paths: ['/a'] }),
      rule('no-get', { effect: 'deny', hosts: ['git.example.com'], ports: [22], methods: ['GET'] }),
    ])
    const e = PolicyEngine.compile([narrow, git], [agent('bot', ['narrow', 'git'])])
    assert.deepEqual(summary(e.decideConnect('bot', 'git.example.com', 22)), [
      'opaque',
      'allow',
      'git/ssh',
    ])
  })

  void test('a report-mode deny turns the tunnel into would_deny; report rules never open one', () => {
    const watch = policy(
      'watch',
      [rule('no-ssh', { effect: 'deny', hosts: ['git.example.com'], ports: [22] })],
      'report',
    )
    const e = PolicyEngine.compile([git, watch], [agent('bot', ['git', 'watch'])])
    assert.deepEqual(summary(e.decideConnect('bot', 'git.example.com', 22)), [
      'opaque',
      'would_deny',
      'watch/no-ssh',
    ])

    const reportGit = policy('git', [ssh], 'report')
    const monitor = PolicyEngine.compile([reportGit], [agent('bot', ['git'])])
    assert.deepEqual(summary(monitor.decideConnect('bot', 'git.example.com', 22)), ['intercept'])
  })

  void test('the allowance of the opaque rule travels with the decision', () => {
    const local = rule('local', { hosts: ['127.0.0.1'], ports: [2222], tunnel: 'opaque' })
    const e = PolicyEngine.compile([policy('p', [local])], [agent('bot', ['p'])])
    const connect = e.decideConnect('bot', '127.0.0.1', 2222)
    assert.equal(connect.kind, 'opaque')
    assert.ok(connect.kind === 'opaque' && connect.decision.addresses !== undefined)
  })

  void test('an overlay must allow the tunnel with an opaque rule of its own', () => {
    const overlay = policy('ssh-only', [ssh])
    const webOnly = policy('web-only', [https])
    const e = PolicyEngine.compile([git, overlay, webOnly], [agent('bot', ['git'])])
    assert.deepEqual(summary(e.decideConnect('bot', 'git.example.com', 22, ['ssh-only'])), [
      'opaque',
      'allow',
      'git/ssh',
    ])
    assert.deepEqual(summary(e.decideConnect('bot', 'git.example.com', 22, ['web-only'])), [
      'refuse',
      'deny',
      'overlay: no rule matched',
    ])
    assert.deepEqual(summary(e.decideConnect('bot', 'git.example.com', 22, ['gone'])), [
      'refuse',
      'deny',
      'overlay: policy gone is not in config',
    ])
  })

  void test('lint does not call an opaque rule shadowed by an HTTP rule of the same host', () => {
    const web = rule('web', { hosts: ['git.example.com'], schemes: ['https'], ports: [22] })
    const p = policy('p', [web, { ...ssh, paths: ['/**'] }])
    const found = lintPolicies(config({ policies: [p], agents: [agent('bot', ['p'])] }))
    assert.ok(!found.some((f) => f.code === 'POLICY_SHADOWED_RULE'), JSON.stringify(found))
  })
})

const CONFIG_HEAD = `
version: 1
server:
  stateDir: /tmp/tollgate-unused
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [git]
credentials:
  - name: gh
    secret: gh
    hosts: [git.example.com]
    header: { name: Authorization, format: "token {secret}" }
policies:
  - name: git
    rules:
`

function load(ruleYaml: string) {
  return parseConfigText(CONFIG_HEAD + ruleYaml, 'tollgate.yaml')
}

function problems(ruleYaml: string): string[] {
  try {
    load(ruleYaml)
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`)
    throw error
  }
  return []
}

void describe('opaque-tunnel rules at config load', () => {
  void test('exact hosts and explicit ports load, with the tunnel kept on the rule', () => {
    const loaded = load(`      - name: ssh
        hosts: [git.example.com, 10.0.0.5]
        ports: [22]
        tunnel: opaque
        methods: [connect]
`)
    assert.equal(loaded.config.policies[0]?.rules[0]?.tunnel, 'opaque')
  })

  const refused: Array<[string, string, RegExp]> = [
    ['a wildcard host', 'hosts: ["*.example.com"]\n        ports: [22]', /hosts\[0\]: .*wildcard/],
    ['the any host', 'hosts: ["*"]\n        ports: [22]', /hosts\[0\]: .*wildcard/],
    ['no ports', 'hosts: [git.example.com]', /tunnel: an opaque tunnel needs explicit ports/],
    [
      'a credential',
      'hosts: [git.example.com]\n        ports: [22]\n        credential: gh',
      /credential: does not apply/,
    ],
    [
      'paths',
      'hosts: [git.example.com]\n        ports: [22]\n        paths: ["/**"]',
      /paths: does not apply/,
    ],
    [
      'a method other than CONNECT',
      'hosts: [git.example.com]\n        ports: [22]\n        methods: [CONNECT, GET]',
      /methods: an opaque tunnel only opens with CONNECT/,
    ],
    [
      'a deny rule',
      'effect: deny\n        hosts: [git.example.com]\n        ports: [22]',
      /tunnel: only allow rules/,
    ],
    [
      'schemes',
      'hosts: [git.example.com]\n        ports: [22]\n        schemes: [https]',
      /schemes: does not apply/,
    ],
  ]
  for (const [what, body, expected] of refused) {
    void test(`refused: ${what}`, () => {
      const found = problems(`      - name: ssh\n        tunnel: opaque\n        ${body}\n`)
      assert.ok(
        found.some((p) => expected.test(p)),
        found.join('\n'),
      )
    })
  }

  void test('the schema refuses any other tunnel kind', () => {
    const found = problems(
      '      - name: ssh\n        tunnel: raw\n        hosts: [git.example.com]\n        ports: [22]\n',
    )
    assert.ok(
      found.some((p) => /tunnel/.test(p)),
      found.join('\n'),
    )
  })
})

void describe('policy explain for a CONNECT', () => {
  const cfg = config({ policies: [git], agents: [agent('bot', ['git'])] })
  const engine = PolicyEngine.compile(cfg.policies, cfg.agents)
  const explain = (authority: string) => explainConnect(engine, cfg, 'bot', authority)

  void test('names the three outcomes the tunnel listener can reach, with the deciding rule', () => {
    const opaque = explain('Git.Example.com.:22')
    assert.deepEqual(
      [opaque.host, opaque.port, opaque.outcome, opaque.decision?.rule?.id],
      ['git.example.com', 22, 'opaque', 'git/ssh'],
    )
    assert.match(formatConnectExplanation(opaque), /^decision: {3}opaque tunnel, allow/m)

    const intercepted = explain('git.example.com:443')
    assert.deepEqual([intercepted.outcome, intercepted.decision], ['intercept', null])

    const refused = explain('git.example.com:2222')
    assert.equal(refused.outcome, 'refuse')
    assert.match(
      formatConnectExplanation(refused),
      /^decision: {3}refuse \(TOLLGATE_POLICY_NO_MATCH\)/m,
    )
  })

  void test('refuses an authority that a CONNECT could not carry', () => {
    for (const bad of [
      'git.example.com',
      'git.example.com:0',
      'x:1/path',
      'user@x:22',
      'x:99999',
    ]) {
      assert.throws(() => explain(bad), /CONNECT takes host:port/, bad)
    }
  })
})
