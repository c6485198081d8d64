import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createWorkspace, runCli, type CliWorkspace } from '../../helpers/cli.js'

const EXAMPLE = fileURLText('../../../../examples/tollgate.example.yaml')

function fileURLText(relative: string): string {
  return readFileSync(new URL(relative, import.meta.url), 'utf8')
}

/** The line (from 1) of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle))
  assert.ok(index >= 0, `${needle} is in the config`)
  return index + 1
}

describe('tollgate init and config loading', () => {
  const workspaces: CliWorkspace[] = []
  const workspace = () => {
    const ws = createWorkspace()
    workspaces.push(ws)
    return ws
  }

  after(() => workspaces.forEach((ws) => ws.remove()))

  test('init writes the example config, and serve accepts it', async () => {
    const ws = workspace()
    const init = await ws.run(['init'])
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stdout, new RegExp(`wrote ${ws.configPath}`))
    assert.equal(readFileSync(ws.configPath, 'utf8'), EXAMPLE)

    // The example listens on fixed ports; move them to ephemeral ones, change nothing else.
    const text = readFileSync(ws.configPath, 'utf8')
    const ephemeral = text.replace(/listen: 127\.0\.0\.1:\d+/g, 'listen: 127.0.0.1:0')
    assert.equal(ephemeral.match(/listen: 127\.0\.0\.1:0/g)?.length, 3)
    writeFileSync(ws.configPath, ephemeral)

    const serve = await ws.serve()
    try {
      const health = await fetch(`http://127.0.0.1:${serve.controlPort}/healthz`)
      const body = (await health.json()) as { config_version: string }
      const hash = createHash('sha256').update(ephemeral).digest('hex')
      assert.equal(body.config_version, `sha256:${hash}`)
    } finally {
      assert.equal(await serve.stop(), 0)
    }
  })

  test('init refuses to overwrite an existing file without --force', async () => {
    const ws = workspace()
    writeFileSync(ws.configPath, '# mine\n')
    const refused = await ws.run(['init'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /TOLLGATE_INVALID_ARGUMENT: .*exists; use --force/)
    assert.equal(readFileSync(ws.configPath, 'utf8'), '# mine\n', 'file untouched')

    const forced = await ws.run(['init', '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(readFileSync(ws.configPath, 'utf8'), EXAMPLE)
  })

  test('without --config, $TOLLGATE_CONFIG and then ./tollgate.yaml are used', async () => {
    const ws = workspace()
    const fromEnv = join(ws.dir, 'from-env.yaml')
    const viaEnv = await runCli(['init'], { cwd: ws.dir, env: { TOLLGATE_CONFIG: fromEnv } })
    assert.equal(viaEnv.code, 0, viaEnv.stderr)
    assert.equal(readFileSync(fromEnv, 'utf8'), EXAMPLE)

    const viaCwd = await runCli(['init'], { cwd: ws.dir })
    assert.equal(viaCwd.code, 0, viaCwd.stderr)
    assert.equal(readFileSync(join(ws.dir, 'tollgate.yaml'), 'utf8'), EXAMPLE)
  })

  test('serve with a missing --config path exits 1 naming the path and the code', async () => {
    const ws = workspace()
    const missing = join(ws.dir, 'absent.yaml')
    const result = await runCli(['--config', missing, 'serve'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TOLLGATE_CONFIG_NOT_FOUND/)
    assert.ok(result.stderr.includes(missing), result.stderr)
    assert.equal(result.stdout, '')
  })

  test('an agent with an undeclared owner: serve refuses, naming file:line and the key', async () => {
    const ws = workspace()
    const path = ws.writeConfig(`
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: bob@example.com
    team: platform
`)
    const result = await ws.run(['serve'])
    assert.equal(result.code, 1)
    const line = lineOf(readFileSync(path, 'utf8'), 'owner: bob@example.com')
    assert.match(result.stderr, /TOLLGATE_CONFIG_INVALID/)
    assert.ok(
      result.stderr.includes(`${ws.configPath}:${line}:`),
      `stderr names ${ws.configPath}:${line}: ${result.stderr}`,
    )
    assert.match(result.stderr, /agents\[0\]\.owner: "bob@example.com" is not a declared person/)
    assert.doesNotMatch(result.stdout, /relay listening/)
  })

  test("a typo'd key: serve refuses, naming file:line, the key and a suggestion", async () => {
    const ws = workspace()
    const path = ws.writeConfig(`
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    polices: []
`)
    const result = await ws.run(['serve'])
    assert.equal(result.code, 1)
    const line = lineOf(readFileSync(path, 'utf8'), 'polices:')
    assert.ok(result.stderr.includes(`${ws.configPath}:${line}:`), result.stderr)
    assert.match(result.stderr, /agents\[0\]: unknown key "polices" \(did you mean "policies"\?\)/)
  })

  test('usage errors exit 2: unknown command, missing required option', async () => {
    const unknown = await runCli(['frobnicate'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown command 'frobnicate'/)

    const ws = workspace()
    const missing = await ws.run(['token', 'issue'])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /required option '-a, --agent <name>' not specified/)
  })
})
