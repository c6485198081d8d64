import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatPolicyTestReport,
  parsePolicyTestFile,
  runPolicyTests,
} from '../../../src/policy/policy-test.js'
import { TollgateError } from '../../../src/errors/tollgate-error.js'
import { engineFor, policy, rule } from './fixtures.js'

const engine = engineFor(
  policy('github', [
    rule('read', { hosts: ['api.github.com'], methods: ['GET'] }),
    rule('no-admin', { effect: 'deny', hosts: ['api.github.com'], paths: ['/admin/**'] }),
    rule('scratch', { hosts: ['api.github.com'], methods: ['DELETE'], paths: ['/tmp/**'] }),
  ]),
  policy(
    'strict',
    [rule('no-delete', { effect: 'deny', hosts: ['*'], methods: ['DELETE'] })],
    'report',
  ),
)

const TABLE = `tests:
  - agent: bot
    request: GET https://api.github.com/repos/x/y?page=2
    expect: allow
    rule: github/read
  - agent: bot
    request: GET https://API.github.com/admin
    expect: deny
    rule: github/no-admin
  - agent: bot
    request: POST https://api.github.com/repos
    expect: deny
    rule: none
  - agent: bot
    request: GET https://api.github.com/admin
    expect: allow
`

function parseError(text: string): string {
  try {
    parsePolicyTestFile(text, 'policy.test.yaml')
  } catch (error) {
    assert.ok(error instanceof TollgateError)
    assert.equal(error.code, 'TOLLGATE_INVALID_ARGUMENT')
    return error.message
  }
  assert.fail('expected the table to be rejected')
}

void describe('parsePolicyTestFile', () => {
  void test('reads cases with their line, canonical target and optional rule', () => {
    const cases = parsePolicyTestFile(TABLE, 'policy.test.yaml')

    assert.equal(cases.length, 4)
    assert.deepEqual(cases[0]?.target, {
      scheme: 'https',
      host: 'api.github.com',
      port: 443,
      method: 'GET',
      path: '/repos/x/y',
    })
    assert.deepEqual(
      cases.map((c) => [c.line, c.rule]),
      [
        [2, 'github/read'],
        [6, 'github/no-admin'],
        [10, null],
        [14, undefined],
      ],
    )
    assert.equal(cases[1]?.target.host, 'api.github.com')
  })

  void test('names the file, line and index of every bad entry', () => {
    const message = parseError(`tests:
  - agent: bot
    request: GET https://ok.example/
    expect: allow
  - agent: bot
    request: https://no-method.example/
    expect: maybe
  - request: GET ftp://files.example/
    expect: deny
    colour: blue
`)
    assert.deepEqual(message.split('\n'), [
      'policy.test.yaml:5: tests[1]: "request" must be "METHOD URL", e.g. "GET https://host/path"',
      'policy.test.yaml:5: tests[1]: "expect" must be one of allow, deny, would_deny',
      'policy.test.yaml:8: tests[2]: unknown key "colour"',
      'policy.test.yaml:8: tests[2]: "agent" must be a non-empty string',
      'policy.test.yaml:8: tests[2]: "request" URL: only http and https are relayed',
    ])
  })

  void test('rejects a document without a tests list and broken YAML', () => {
    assert.match(
      parseError('cases: []\n'),
      /^policy\.test\.yaml:1: expected a top-level "tests:" list$/,
    )
    assert.match(parseError('tests:\n  - agent: [unclosed\n'), /^policy\.test\.yaml:\d+: /)
    assert.match(parseError('tests:\n  - just a string\n'), /tests\[0\]: expected a map/)
  })
})

void describe('runPolicyTests', () => {
  void test('compares kind and rule and explains each failure', () => {
    const report = runPolicyTests(engine, parsePolicyTestFile(TABLE, 'policy.test.yaml'))

    assert.deepEqual([report.passed, report.failed], [3, 1])
    assert.deepEqual(report.results[3]?.failures, ['expected allow, got deny'])
    assert.deepEqual(report.results[3]?.actual, { kind: 'deny', rule: 'github/no-admin' })
  })

  void test('checks would_deny and a wrong expected rule', () => {
    const cases = parsePolicyTestFile(
      `tests:
  - agent: bot
    request: DELETE https://api.github.com/tmp/x
    expect: would_deny
    rule: github/read
`,
      't.yaml',
    )
    const report = runPolicyTests(engine, cases)
    assert.deepEqual(report.results[0]?.failures, [
      'expected rule github/read, got strict/no-delete',
    ])
  })

  void test('the report has one line per case, reasons, a summary and no query string', () => {
    const text = formatPolicyTestReport(
      runPolicyTests(engine, parsePolicyTestFile(TABLE, 'p.yaml')),
    )

    assert.deepEqual(text.split('\n'), [
      'PASS p.yaml:2 bot GET https://api.github.com:443/repos/x/y -> allow (github/read)',
      'PASS p.yaml:6 bot GET https://api.github.com:443/admin -> deny (github/no-admin)',
      'PASS p.yaml:10 bot POST https://api.github.com:443/repos -> deny (no rule)',
      'FAIL p.yaml:14 bot GET https://api.github.com:443/admin -> deny (github/no-admin)',
      '    expected allow, got deny',
      '3 passed, 1 failed',
    ])
  })
})
