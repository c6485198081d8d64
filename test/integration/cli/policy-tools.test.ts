import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createWorkspace, linesOf, runCli, type CliWorkspace } from '../../helpers/cli.js'

const CONFIG = `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [github]
policies:
  - name: github
    rules:
      - name: read
        hosts: [api.github.com]
        methods: [GET]
        paths: ['/repos/**']
      - name: no-admin
        effect: deny
        hosts: [api.github.com]
        paths: ['/repos/*/admin/**']
`

/** The same config plus a rule that opens every host: lint must call it an error. */
const WILDCARD = CONFIG.replace(
  '      - name: no-admin',
  `      - name: anywhere
        hosts: ["*"]
        methods: [GET]
      - name: no-admin`,
)

const PASSING_TABLE = `tests:
  - agent: bot
    request: GET https://api.github.com/repos/a/b
    expect: allow
    rule: github/read
  - agent: bot
    request: GET https://api.github.com/repos/a/admin/keys
    expect: deny
    rule: github/no-admin
  - agent: bot
    request: POST https://api.github.com/repos/a/b
    expect: deny
    rule: none
`

const FAILING_TABLE = `tests:
  - agent: bot
    request: GET https://api.github.com/repos/a/b
    expect: allow
  - agent: bot
    request: DELETE https://api.github.com/repos/a/b
    expect: allow
`

describe('tollgate policy: explain, lint, test', () => {
  let ws: CliWorkspace
  let lintWs: CliWorkspace

  before(() => {
    ws = createWorkspace()
    ws.writeConfig(CONFIG)
    lintWs = createWorkspace()
    lintWs.writeConfig(WILDCARD)
  })

  after(() => {
    ws.remove()
    lintWs.remove()
  })

  test('explain prints the decision and the deciding rule', async () => {
    const url = 'https://API.github.com/repos/a/b?token=x'
    const allow = await ws.run(['policy', 'explain', '--agent', 'bot', 'GET', url])
    assert.equal(allow.code, 0, allow.stderr)
    assert.match(allow.stdout, /^request: +GET https:\/\/api\.github\.com:443\/repos\/a\/b$/m)
    assert.match(allow.stdout, /^decision: +allow$/m)
    assert.match(allow.stdout, /^rule: +github\/read$/m)
    assert.ok(!allow.stdout.includes('token=x'), 'the query is not echoed')
  })

  test('explain shows a deny rule beating the allow that also matched', async () => {
    const url = 'https://api.github.com/repos/a/admin/keys'
    const deny = await ws.run(['policy', 'explain', '-a', 'bot', 'GET', url, '--json'])
    assert.equal(deny.code, 0, deny.stderr)
    const explained = JSON.parse(deny.stdout) as Record<string, unknown>
    const text = JSON.stringify(explained)
    assert.match(text, /"github\/no-admin"/)
    assert.match(text, /"github\/read"/, 'the overruled allow is listed as matched')

    const plain = await ws.run(['policy', 'explain', '-a', 'bot', 'GET', url])
    assert.match(plain.stdout, /^decision: +deny \(TOLLGATE_POLICY_DENIED\)$/m)
    assert.match(plain.stdout, /^rule: +github\/no-admin$/m)
    assert.match(plain.stdout, /^ {2}allow github\/read \[enforce\]$/m)
    assert.match(plain.stdout, /^ {2}deny {2}github\/no-admin \[enforce\]$/m)
  })

  test('lint is clean (exit 0) on a narrow config', async () => {
    const lint = await ws.run(['policy', 'lint'])
    assert.equal(lint.code, 0, lint.stdout)
    assert.doesNotMatch(lint.stdout, /^error\t/m)
  })

  test('lint flags a bare * host allow rule as an error and exits 1', async () => {
    const lint = await lintWs.run(['policy', 'lint'])
    assert.equal(lint.code, 1, lint.stdout)
    assert.match(lint.stdout, /^error\tPOLICY_WILDCARD_HOST\tgithub\/anywhere\t/m)
    assert.match(lint.stdout, /^\d+ finding\(s\)$/m)

    const json = await lintWs.run(['policy', 'lint', '--json'])
    assert.equal(json.code, 1)
    const findings = JSON.parse(json.stdout) as Array<{ code: string; severity: string }>
    assert.ok(findings.some((f) => f.code === 'POLICY_WILDCARD_HOST' && f.severity === 'error'))
  })

  test('policy test passes a correct table and exits 0', async () => {
    const file = ws.writeFile('pass.yaml', PASSING_TABLE)
    const result = await ws.run(['policy', 'test', file])
    assert.equal(result.code, 0, result.stdout)
    assert.equal(linesOf(result.stdout).filter((line) => line.startsWith('PASS')).length, 3)
    assert.doesNotMatch(result.stdout, /^FAIL/m)
  })

  test('policy test fails a wrong table, names the failing case and exits 1', async () => {
    const file = ws.writeFile('fail.yaml', FAILING_TABLE)
    const result = await ws.run(['policy', 'test', file])
    assert.equal(result.code, 1, result.stdout)
    const failed = linesOf(result.stdout).filter((line) => line.startsWith('FAIL'))
    assert.equal(failed.length, 1)
    assert.match(failed[0] ?? '', /DELETE/)
  })

  test('policy test reports a malformed table with file:line and exits 1', async () => {
    const file = ws.writeFile('bad.yaml', 'tests:\n  - agent: bot\n    expect: maybe\n')
    const result = await runCli(['--config', ws.configPath, 'policy', 'test', file])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TOLLGATE_INVALID_ARGUMENT/)
    assert.ok(result.stderr.includes(`${file}:2: tests[0]`), result.stderr)
  })
})
