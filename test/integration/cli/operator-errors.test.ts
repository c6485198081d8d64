import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createWorkspace, type CliWorkspace } from '../../helpers/cli.js'
import { cliTestConfig } from './cli-config.js'

describe('the CLI when things are wrong: clear errors, and the state still reachable', () => {
  let ws: CliWorkspace

  before(async () => {
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: 9 }))
    const issued = await ws.run(['token', 'issue', '--agent', 'bot'])
    assert.equal(issued.code, 0, issued.stderr)
  })

  after(() => ws.remove())

  test('with a broken config, audit and token commands still work on its state directory', async () => {
    const tokens = await ws.run(['token', 'list', '--json'])
    const [token] = JSON.parse(tokens.stdout) as Array<{ id: string }>
    ws.writeFile(
      'tollgate.yaml',
      `version: 1
server:
  stateDir: ${JSON.stringify(ws.stateDir)}
agents:
  - name: orphan
    owner: nobody@example.com
    team: none
    policies: []
`,
    )
    const verify = await ws.run(['audit', 'verify'])
    assert.equal(verify.code, 0, verify.stderr)
    assert.match(verify.stderr, /warning: .* is invalid/)
    assert.match(verify.stdout, /^ok: \d+ events/)

    const revoke = await ws.run(['token', 'revoke', token?.id ?? ''])
    assert.equal(revoke.code, 0, revoke.stderr)
    assert.match(revoke.stdout, /^revoked tok_/)

    const serve = await ws.run(['agent', 'list'])
    assert.equal(serve.code, 1, 'commands that need the config still refuse it')
    assert.match(serve.stderr, /TOLLGATE_CONFIG_INVALID/)
  })

  test('a missing file is a one-line error with its code, not a stack trace', async () => {
    ws.writeConfig(cliTestConfig({ http: 9 }))
    const result = await ws.run(['policy', 'test', '/no/such/table.yaml'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^tollgate: ENOENT: /)
    assert.doesNotMatch(result.stderr, /\n\s+at /)
  })

  test('explaining a decision for an agent that does not exist is an error, not a deny', async () => {
    const result = await ws.run(['policy', 'explain', '-a', 'nobody', 'GET', 'https://x.test/'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TOLLGATE_NOT_FOUND: no agent named nobody/)
  })
})
