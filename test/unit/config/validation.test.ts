import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import fc from 'fast-check'

import { ConfigError } from '../../../src/config/config-error.js'
import { BASE, baseWith, issuesOf, load } from './config-fixtures.js'

void describe('YAML-level refusals', () => {
  void test('the base fixture is valid', () => {
    assert.equal(load(BASE.join('\n')).config.agents.length, 1)
  })

  void test('a syntax error names its line', () => {
    const issues = issuesOf(baseWith({ 14: '        hosts: [api.github.com' }))

    assert.equal(issues.length >= 1, true)
    assert.match(issues[0] ?? '', /^tollgate\.yaml:1[45]:\d+: /)
  })

  void test('a duplicate key is refused at the second occurrence', () => {
    const issues = issuesOf(baseWith({ 8: '    team: platform\n    team: other' }))

    assert.deepEqual(issues, ['tollgate.yaml:9:5: duplicate key "team"'])
  })

  void test('anchors and aliases are refused', () => {
    const issues = issuesOf(baseWith({ 4: '    teams: &t [platform]', 9: '    policies: *t' }))

    assert.deepEqual(issues, [
      'tollgate.yaml:4:15: anchors (&name) are not supported',
      'tollgate.yaml:9:15: aliases (*name) are not supported',
    ])
  })

  void test('an empty file must still declare its version', () => {
    assert.deepEqual(issuesOf(''), [
      'tollgate.yaml:1:1: the document must be a mapping starting with "version: 1"',
    ])
  })

  void test('unknown tags are refused', () => {
    const issues = issuesOf(baseWith({ 18: '    secret: !vault gh' }))
    assert.match(issues[0] ?? '', /^tollgate\.yaml:18:13: .*!vault/)
  })
})

void describe('schema refusals', () => {
  void test('an unknown key names its position and suggests the intended one', () => {
    const issues = issuesOf(baseWith({ 9: '    polices: [p]' }))

    assert.deepEqual(issues, [
      'tollgate.yaml:9:5: agents[0]: unknown key "polices" (did you mean "policies"?)',
    ])
  })

  void test('an unknown top-level key has no path prefix', () => {
    const issues = issuesOf(`${BASE.join('\n')}\nagent: []\n`)
    assert.deepEqual(issues, ['tollgate.yaml:21:1: unknown key "agent" (did you mean "agents"?)'])
  })

  void test('a wrong type names the key path and the expected type', () => {
    const issues = issuesOf(baseWith({ 7: '    owner: [alice@example.com]' }))
    assert.deepEqual(issues, ['tollgate.yaml:7:12: agents[0].owner: must be a string'])
  })

  void test('an agent without an owner is refused', () => {
    const issues = issuesOf(baseWith({ 7: '    description: nobody owns me' }))

    assert.deepEqual(issues, [
      'tollgate.yaml:6:5: agents[0]: missing required key "owner"; every agent must be bound to a declared person who answers for it',
    ])
  })

  void test('patterns are explained in words, not regular expressions', () => {
    const issues = issuesOf(
      baseWith({
        1: 'version: 1\nserver:\n  timeouts: { connect: 10 s }\n  proxy: { listen: localhost }',
      }),
    )

    assert.deepEqual(issues, [
      'tollgate.yaml:3:24: server.timeouts.connect: must be a duration such as 500ms, 10s, 5m, 24h or 7d, or whole milliseconds',
      'tollgate.yaml:4:20: server.proxy.listen: must be host:port or [ipv6]:port',
    ])
  })

  void test('hosts belongs to the control listener only, as a list of names', () => {
    const issues = issuesOf(
      baseWith({
        1: [
          'version: 1',
          'server:',
          '  proxy: { hosts: [tollgate] }',
          '  reverse: { hosts: [tollgate] }',
          '  control: { hosts: tollgate }',
        ].join('\n'),
      }),
    )

    assert.deepEqual(issues, [
      'tollgate.yaml:3:12: server.proxy: unknown key "hosts"',
      'tollgate.yaml:4:14: server.reverse: unknown key "hosts"',
      'tollgate.yaml:5:21: server.control.hosts: must be a list',
    ])
  })

  void test('control hosts may not be empty strings or repeat', () => {
    const issues = issuesOf(
      baseWith({ 1: 'version: 1\nserver:\n  control: { hosts: ["", tollgate, tollgate] }' }),
    )

    assert.deepEqual(issues, [
      'tollgate.yaml:3:21: server.control.hosts: must not repeat an entry (entries 1 and 2 are the same)',
      'tollgate.yaml:3:22: server.control.hosts[0]: must not be empty',
    ])
  })

  void test('all errors are reported, in file order', () => {
    const issues = issuesOf(
      baseWith({
        1: 'version: 2',
        3: '  - email: not-an-email',
        13: '      - name: r',
        14: '        hosts: []',
      }),
    )

    assert.deepEqual(issues, [
      'tollgate.yaml:1:10: version: must be 1',
      'tollgate.yaml:3:12: people[0].email: must be an email address',
      'tollgate.yaml:14:16: policies[0].rules[0].hosts: must not be empty',
    ])
  })

  void test('a credential must set exactly one injection', () => {
    const none = issuesOf(baseWith({ 20: '    # no injection' }))
    const two = issuesOf(baseWith({ 20: `${BASE[19] ?? ''}\n    query: { param: key }` }))

    assert.deepEqual(none, [
      'tollgate.yaml:17:5: credentials[0]: must set one of header, basic, query or placeholder',
    ])
    assert.deepEqual(two, [
      'tollgate.yaml:17:5: credentials[0]: must set only one of header, basic, query or placeholder',
    ])
  })

  void test('ConfigError carries structured issues and the catalogue code', () => {
    try {
      load(baseWith({ 9: '    polices: [p]' }), 'conf/tollgate.yaml')
      assert.fail('expected a ConfigError')
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      assert.equal(error.code, 'TOLLGATE_CONFIG_INVALID')
      assert.deepEqual(error.issues, [
        {
          file: 'conf/tollgate.yaml',
          line: 9,
          column: 5,
          path: 'agents[0]',
          message: 'unknown key "polices" (did you mean "policies"?)',
        },
      ])
      assert.match(error.message, /^invalid configuration: conf\/tollgate\.yaml:9:5: /)
    }
  })
})

void describe('robustness', () => {
  void test('more than one YAML document is refused', () => {
    const issues = issuesOf(`${BASE.join('\n')}\n---\nversion: 1\n`)
    assert.equal(issues.length, 1)
    assert.match(issues[0] ?? '', /^tollgate\.yaml:21:1: /)
  })

  void test('any edit of a valid file either loads or fails with located ConfigError issues', () => {
    const edit = fc.record({
      line: fc.nat({ max: BASE.length - 1 }),
      text: fc.oneof(fc.string(), fc.constantFrom('  - x', '    hosts: ["*"]', 'people: null', '')),
    })

    fc.assert(
      fc.property(edit, ({ line, text }) => {
        try {
          load(baseWith({ [line + 1]: text }))
        } catch (error) {
          assert.ok(error instanceof ConfigError, String(error))
          assert.ok(error.issues.length > 0)
          assert.ok(error.issues.every((i) => i.line >= 1 && i.column >= 1))
        }
      }),
      { numRuns: 300 },
    )
  })
})
