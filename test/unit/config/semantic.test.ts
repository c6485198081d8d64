import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { baseWith, baseWithAppended, issuesOf, load } from './config-fixtures.js'

void describe('unique names', () => {
  void test('a second agent with the same name points back at the first', () => {
    const issues = issuesOf(
      baseWith({
        9: '    policies: [p]\n  - name: bot\n    owner: alice@example.com\n    team: platform',
      }),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:10:11: agents[1].name: duplicate agent "bot" (first declared at line 6)',
    ])
  })

  void test('people are unique by email, whatever its case', () => {
    const issues = issuesOf(baseWith({ 4: '    teams: [platform]\n  - email: ALICE@example.com' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:5:12: people[1].email: duplicate person "alice@example.com" (first declared at line 3)',
    ])
  })

  void test('rule names are unique within a policy but may repeat across policies', () => {
    const twice = baseWith({
      15: '        credential: gh\n      - name: r\n        hosts: [x.example.com]',
    })
    assert.deepEqual(issuesOf(twice), [
      'tollgate.yaml:16:15: policies[0].rules[1].name: duplicate rule "r" (first declared at line 13)',
    ])

    const across = baseWith({
      15: '        credential: gh\n  - name: q\n    rules:\n      - name: r\n        hosts: [x.example.com]',
    })
    assert.equal(load(across).config.policies.length, 2)
  })

  void test('policies, credentials and routes are unique', () => {
    const issues = issuesOf(
      baseWithAppended(
        '  - name: gh',
        '    secret: other',
        '    hosts: [api.github.com]',
        '    basic: { username: u }',
        'routes:',
        '  - { name: svc, upstream: "https://a.example" }',
        '  - { name: svc, upstream: "https://b.example" }',
        'server:',
        '  reverse: {}',
      ),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:21:11: credentials[1].name: duplicate credential "gh" (first declared at line 17)',
      'tollgate.yaml:27:13: routes[1].name: duplicate route "svc" (first declared at line 26)',
    ])
  })
})

void describe('references', () => {
  void test('the owner must be a declared person, with a suggestion', () => {
    const issues = issuesOf(baseWith({ 7: '    owner: alise@example.com' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:7:12: agents[0].owner: "alise@example.com" is not a declared person (did you mean "alice@example.com"?)',
    ])
  })

  void test('the team must be declared by some person', () => {
    const issues = issuesOf(baseWith({ 8: '    team: security' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:8:11: agents[0].team: "security" is not a team of any declared person',
    ])
  })

  void test('listed policies must exist', () => {
    const issues = issuesOf(baseWith({ 9: '    policies: [p, q]' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:9:19: agents[0].policies[1]: no policy named "q" (did you mean "p"?)',
    ])
  })

  void test("a rule's credential must exist", () => {
    const issues = issuesOf(baseWith({ 15: '        credential: github' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:15:21: policies[0].rules[0].credential: no credential named "github"',
    ])
  })

  void test('routes need the reverse listener', () => {
    const issues = issuesOf(
      baseWithAppended('routes:', '  - { name: svc, upstream: "https://a.example" }'),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:22:3: routes: routes need the reverse listener: set server.reverse (e.g. reverse: {})',
    ])
  })
})

void describe('credential binding', () => {
  void test('a deny rule cannot name a credential', () => {
    const issues = issuesOf(baseWith({ 13: '      - name: r\n        effect: deny' }))
    assert.deepEqual(issues, [
      'tollgate.yaml:16:21: policies[0].rules[0].credential: a deny rule cannot inject a credential',
    ])
  })

  void test("a rule using a credential must stay within the credential's hosts", () => {
    const issues = issuesOf(
      baseWith({
        14: '        hosts: [api.github.com, uploads.github.com, "*.github.com", "*"]',
        19: '    hosts: [api.github.com, "*.corp.example"]',
      }),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:14:33: policies[0].rules[0].hosts[1]: "uploads.github.com" is outside the hosts credential "gh" is bound to',
      'tollgate.yaml:14:53: policies[0].rules[0].hosts[2]: "*.github.com" is outside the hosts credential "gh" is bound to',
      'tollgate.yaml:14:69: policies[0].rules[0].hosts[3]: "*" is outside the hosts credential "gh" is bound to',
    ])
  })

  void test('wildcard bindings cover names and narrower wildcards below them', () => {
    const text = baseWith({
      14: '        hosts: [a.corp.example, b.c.corp.example, "*.x.corp.example"]',
      19: '    hosts: ["*.corp.example"]',
    })
    assert.equal(load(text).config.policies[0]?.rules[0]?.hosts.length, 3)
  })

  void test('a wildcard binding does not cover its own suffix', () => {
    const issues = issuesOf(
      baseWith({ 14: '        hosts: [corp.example]', 19: '    hosts: ["*.corp.example"]' }),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:14:17: policies[0].rules[0].hosts[0]: "corp.example" is outside the hosts credential "gh" is bound to',
    ])
  })

  void test('a credential cannot be bound to every host', () => {
    const issues = issuesOf(baseWith({ 19: '    hosts: ["*"]' }))
    assert.ok(
      issues.includes(
        'tollgate.yaml:19:13: credentials[0].hosts[0]: a credential cannot be bound to every host ("*")',
      ),
    )
  })

  void test('the header format must contain {secret}', () => {
    const issues = issuesOf(
      baseWith({ 20: "    header: { name: Authorization, format: 'Bearer token' }" }),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:20:44: credentials[0].header.format: must contain {secret} where the secret goes',
    ])
  })

  void test('hop-by-hop and framing headers cannot carry a credential', () => {
    for (const name of ['Host', 'Proxy-Authorization', 'Transfer-Encoding', 'connection']) {
      const issues = issuesOf(baseWith({ 20: `    header: { name: ${name}, format: '{secret}' }` }))
      assert.deepEqual(issues, [
        `tollgate.yaml:20:21: credentials[0].header.name: "${name.toLowerCase()}" cannot carry a credential`,
      ])
    }
  })

  void test('two credentials cannot share a placeholder', () => {
    const issues = issuesOf(
      baseWithAppended(
        '  - { name: a, secret: a, hosts: [a.example.com], placeholder: { value: tg-placeholder-x } }',
        '  - { name: b, secret: b, hosts: [b.example.com], placeholder: { value: tg-placeholder-x } }',
      ),
    )
    assert.equal(issues.length, 1)
    assert.match(
      issues[0] ?? '',
      /^tollgate\.yaml:22:\d+: credentials\[2\]\.placeholder\.value: is already the placeholder of credential "a"$/,
    )
  })
})

void describe('value checks', () => {
  void test('host patterns: empty labels, numeric forms and broad wildcards', () => {
    const issues = issuesOf(
      baseWith({
        14: '        hosts: [api.github.com, "a..b", "127.1", "*.com"]',
        15: '',
      }),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:14:33: policies[0].rules[0].hosts[1]: "a..b" is not a valid host name',
      'tollgate.yaml:14:41: policies[0].rules[0].hosts[2]: "127.1" is neither an IP literal nor a host name',
      'tollgate.yaml:14:50: policies[0].rules[0].hosts[3]: "*.com" is too broad: a wildcard needs at least two labels after "*."',
    ])
  })

  void test('route upstreams must be plain absolute http(s) URLs', () => {
    const issues = issuesOf(
      baseWithAppended(
        'server: { reverse: {} }',
        'routes:',
        '  - { name: a, upstream: "https://user@a.example" }',
        '  - { name: b, upstream: "https://b.example/v1?key=1" }',
        '  - { name: c, upstream: "https://c.example/#x" }',
        '  - { name: d, upstream: "https://" }',
      ),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:23:26: routes[0].upstream: must not contain user info',
      'tollgate.yaml:24:26: routes[1].upstream: must not contain a query',
      'tollgate.yaml:25:26: routes[2].upstream: must not contain a fragment',
      'tollgate.yaml:26:26: routes[3].upstream: must be an absolute http:// or https:// URL',
    ])
  })

  void test('listeners may not share an address, and timeouts must fit a timer', () => {
    const issues = issuesOf(
      baseWithAppended(
        'server:',
        '  proxy: { listen: 127.0.0.1:9000 }',
        '  control: { listen: 127.0.0.1:9000 }',
        '  timeouts: { connect: 0s, idle: 30d }',
      ),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:23:22: server.control.listen: 127.0.0.1:9000 is already used by server.proxy',
      'tollgate.yaml:24:24: server.timeouts.connect: must be greater than 0',
      'tollgate.yaml:24:34: server.timeouts.idle: must be at most 24d',
    ])
  })

  void test('control hosts must be exact host names, each refusal naming its entry', () => {
    const issues = issuesOf(
      baseWithAppended(
        'server:',
        '  control:',
        '    hosts:',
        '      - prometheus.monitoring.svc',
        '      - "*.example.com"',
        '      - 10.0.0.5',
        '      - "[::1]"',
        '      - "bad name"',
        '      - metrics.127',
      ),
    )
    assert.deepEqual(issues, [
      'tollgate.yaml:25:9: server.control.hosts[1]: "*.example.com" must be an exact host, not a pattern',
      'tollgate.yaml:26:9: server.control.hosts[2]: "10.0.0.5" is an IP address: the control listener answers every IP address; list host names only',
      'tollgate.yaml:27:9: server.control.hosts[3]: "[::1]" is an IP address: the control listener answers every IP address; list host names only',
      'tollgate.yaml:28:9: server.control.hosts[4]: "bad name" is not a valid host name',
      'tollgate.yaml:29:9: server.control.hosts[5]: "metrics.127" is neither an IP literal nor a host name',
    ])
  })

  void test('listen ports above 65535 are refused', () => {
    const issues = issuesOf(baseWithAppended('server: { proxy: { listen: "127.0.0.1:70000" } }'))
    assert.deepEqual(issues, [
      'tollgate.yaml:21:28: server.proxy.listen: port must be between 0 and 65535',
    ])
  })
})

void test('host characters the schema refuses are reported by the schema', () => {
  const issues = issuesOf(baseWith({ 14: '        hosts: ["a*.example.com", "a b"]', 15: '' }))
  assert.deepEqual(issues, [
    'tollgate.yaml:14:17: policies[0].rules[0].hosts[0]: must be a host name, an IP literal, "*.suffix" or "*"',
    'tollgate.yaml:14:35: policies[0].rules[0].hosts[1]: must be a host name, an IP literal, "*.suffix" or "*"',
  ])
})
