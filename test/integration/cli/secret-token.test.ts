import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  linesOf,
  type CliResult,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { cliTestConfig } from './cli-config.js'

const VALUE = 'sk-live-Z9q/8+cli-secret=value'

describe('tollgate secret: write-only store from stdin', () => {
  let ws: CliWorkspace
  const outputs: CliResult[] = []
  const run = async (args: string[], stdin?: string) => {
    const result = await ws.run(args, stdin === undefined ? {} : { stdin })
    outputs.push(result)
    return result
  }

  before(() => {
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: 9 }))
  })

  after(() => ws.remove())

  test('secret set reads the value from stdin and prints only the name', async () => {
    const set = await run(['secret', 'set', 'header-secret'], `${VALUE}\n`)
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout, 'created secret header-secret (version 1)\n')

    const again = await run(['secret', 'set', 'header-secret'], VALUE)
    assert.equal(again.stdout, 'updated secret header-secret (version 2)\n')
  })

  test('secret set refuses an empty stdin', async () => {
    const empty = await run(['secret', 'set', 'empty-secret'], '\n')
    assert.equal(empty.code, 1)
    assert.match(empty.stderr, /TOLLGATE_INVALID_ARGUMENT: the secret read from stdin is empty/)
  })

  test('secret list shows the name and version, never the value', async () => {
    const list = await run(['secret', 'list'])
    assert.equal(list.code, 0, list.stderr)
    const [line, ...rest] = linesOf(list.stdout)
    assert.deepEqual(rest, [])
    assert.match(line ?? '', /^header-secret\tversion 2\tupdated \d{4}-\d\d-\d\dT/)
  })

  test('the audit trail records the secret by name', async () => {
    const exported = await run(['audit', 'export'])
    const events = linesOf(exported.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    const sets = events.filter((e) => e['type'] === 'secret.set')
    assert.equal(sets.length, 2)
    assert.deepEqual(sets[0]?.['detail'], { name: 'header-secret', version: 1 })
  })

  test('secret delete removes it; deleting again is a not-found error', async () => {
    const deleted = await run(['secret', 'delete', 'header-secret'])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal(deleted.stdout, 'deleted secret header-secret\n')
    assert.equal((await run(['secret', 'list'])).stdout, '')

    const again = await run(['secret', 'delete', 'header-secret'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /TOLLGATE_NOT_FOUND: no secret header-secret/)
  })

  test('the value appeared in no output of any command, nor in plain text in the state dir', () => {
    assert.ok(outputs.length >= 7)
    for (const { stdout, stderr } of outputs) {
      assert.ok(!stdout.includes(VALUE) && !stderr.includes(VALUE))
    }
    for (const name of readdirSync(ws.stateDir)) {
      if (name === 'ca') continue
      const bytes = readFileSync(join(ws.stateDir, name))
      assert.ok(!bytes.includes(VALUE), `${name} holds the value in plain text`)
    }
  })
})

describe('tollgate token and secret against a running serve', () => {
  let ws: CliWorkspace
  let echo: EchoUpstream
  let serve: ServeProcess
  let token = ''
  let tokenId = ''
  const open = () => `http://127.0.0.1:${echo.port}/open/x`
  const proxied = (value: string) =>
    curl(['-x', `http://bot:${value}@127.0.0.1:${serve.proxyPort}`, open()])

  before(async () => {
    echo = await startEchoUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: echo.port }))
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await echo.close()
    ws.remove()
  })

  test('token issue prints only the token on stdout, and the id on stderr', async () => {
    const issued = await ws.run(['token', 'issue', '--agent', 'bot', '--ttl', '1h'])
    assert.equal(issued.code, 0, issued.stderr)
    assert.match(issued.stdout, /^tgt_[A-Za-z0-9_-]{43}\n$/)
    token = issued.stdout.trim()

    const about = /^token (tok_[0-9a-f]+) for bot, expires (\S+)\n$/.exec(issued.stderr)
    assert.ok(about, issued.stderr)
    tokenId = about[1] ?? ''
    const expires = Date.parse(about[2] ?? '')
    assert.ok(Math.abs(expires - Date.now() - 3_600_000) < 600_000, 'expires in about an hour')
    assert.ok(!issued.stderr.includes(token))
  })

  test('token issue for an agent not in the config is an error and prints no token', async () => {
    const result = await ws.run(['token', 'issue', '--agent', 'ghost'])
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /TOLLGATE_NOT_FOUND: no agent named ghost in config/)
  })

  test('token list shows the token by id, live, without its value', async () => {
    const list = await ws.run(['token', 'list'])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, new RegExp(`^${tokenId}\tbot\tlive\texpires `, 'm'))
    assert.ok(!list.stdout.includes(token))

    const json = await ws.run(['token', 'list', '--agent', 'bot', '--json'])
    assert.ok(!json.stdout.includes(token))
    const records = JSON.parse(json.stdout) as Array<{ id: string }>
    assert.deepEqual(
      records.map((r) => r.id),
      [tokenId],
    )
  })

  test('token revoke from another process makes the very next proxied request 407', async () => {
    const allowed = await proxied(token)
    assert.equal(allowed.status, 200)

    const revoked = await ws.run(['token', 'revoke', tokenId])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.equal(revoked.stdout, `revoked ${tokenId}\n`)

    const refused = await proxied(token)
    assert.equal(refused.status, 407)
    assert.equal(refused.headers['tollgate-error'], 'TOLLGATE_AUTH_INVALID')
  })

  test('a revoked token is listed as revoked; revoking twice or an unknown id is handled', async () => {
    const list = await ws.run(['token', 'list'])
    assert.match(list.stdout, new RegExp(`^${tokenId}\tbot\trevoked\t`, 'm'))

    const twice = await ws.run(['token', 'revoke', tokenId])
    assert.equal(twice.code, 0)
    assert.equal(twice.stdout, `${tokenId} was already revoked\n`)

    const unknown = await ws.run(['token', 'revoke', 'tok_0000000000000000'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /TOLLGATE_NOT_FOUND: no token tok_0000000000000000/)
  })

  test('secret set and delete while serve runs take effect on the next request', async () => {
    const issued = await ws.run(['token', 'issue', '--agent', 'bot'])
    const proxy = `http://bot:${issued.stdout.trim()}@127.0.0.1:${serve.proxyPort}`
    const header = () => curl(['-x', proxy, `http://127.0.0.1:${echo.port}/header/x`])

    for (const value of ['first-rotation-value', 'second-rotation-value']) {
      await ws.run(['secret', 'set', 'header-secret'], { stdin: value })
      assert.equal((await header()).status, 200)
      assert.equal(echo.received.at(-1)?.headers['x-api-key'], `Key ${value}`)
    }

    await ws.run(['secret', 'delete', 'header-secret'])
    const before = echo.received.length
    const refused = await header()
    assert.equal(refused.status, 503)
    assert.equal(refused.headers['tollgate-error'], 'TOLLGATE_SECRET_UNAVAILABLE')
    assert.equal(echo.received.length, before, 'nothing reached the upstream')
  })

  test('the audit trail has the issue, the revoke and both requests, without the token', async () => {
    const exported = await ws.run(['audit', 'export'])
    assert.ok(!exported.stdout.includes(token))
    const events = linesOf(exported.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    const types = events.filter((e) => e['token_id'] === tokenId).map((e) => e['type'])
    assert.ok(types.includes('token.issued') && types.includes('token.revoked'), String(types))
    const failed = events.find((e) => e['type'] === 'auth.failed')
    assert.equal(failed?.['code'], 'TOLLGATE_AUTH_INVALID')
  })
})
