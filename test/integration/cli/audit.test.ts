import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import BetterSqlite3 from 'better-sqlite3'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  linesOf,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { cliTestConfig } from './cli-config.js'

/** The stable keys of an exported event, in order (docs/audit.md, "Fields"). */
const AUDIT_KEYS = [
  'seq',
  'time',
  'type',
  'request_id',
  'agent',
  'owner',
  'team',
  'token_id',
  'sandbox_id',
  'client',
  'method',
  'scheme',
  'host',
  'port',
  'path',
  'decision',
  'code',
  'rule',
  'policy_version',
  'credentials',
  'status',
  'bytes_in',
  'bytes_out',
  'duration_ms',
  'upstream_error',
  'detail',
  'prev_hash',
  'hash',
]

interface Event {
  seq: number
  type: string
  request_id: string | null
  agent: string | null
  decision: string | null
  rule: string | null
  code: string | null
  path: string | null
  prev_hash: string
  hash: string
}

describe('tollgate audit: export, query, tail and verify of a real trail', () => {
  let ws: CliWorkspace
  let echo: EchoUpstream
  let events: Event[] = []
  let serve: ServeProcess | undefined
  /** The id the relay sent with its 403 for `/nowhere`. */
  let refusedId = ''

  before(async () => {
    echo = await startEchoUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: echo.port }))
    const running = await ws.serve()
    serve = running
    const proxyFor = async (agent: string) => {
      const token = (await ws.run(['token', 'issue', '--agent', agent])).stdout.trim()
      return `http://${agent}:${token}@127.0.0.1:${running.proxyPort}`
    }
    const bot = await proxyFor('bot')
    const helper = await proxyFor('helper')
    const base = `http://127.0.0.1:${echo.port}`
    assert.equal((await curl(['-x', bot, `${base}/open/x`])).status, 200)
    assert.equal((await curl(['-x', bot, `${base}/admin/x`])).status, 403)
    const refused = await curl(['-x', bot, `${base}/nowhere`])
    assert.equal(refused.status, 403)
    refusedId = refused.headers['tollgate-request-id'] ?? ''
    assert.equal((await curl(['-x', helper, `${base}/admin/y`])).status, 403)
    assert.equal(await running.stop(), 0)
  })

  after(async () => {
    await serve?.kill()
    await echo.close()
    ws.remove()
  })

  test('export --format jsonl: one object per line, the documented keys in order', async () => {
    const exported = await ws.run(['audit', 'export', '--format', 'jsonl'])
    assert.equal(exported.code, 0, exported.stderr)
    assert.ok(exported.stdout.endsWith('\n'))
    const lines = linesOf(exported.stdout)
    for (const line of lines) {
      assert.deepEqual(Object.keys(JSON.parse(line) as object), AUDIT_KEYS, line)
    }
    events = lines.map((line) => JSON.parse(line) as Event)
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
    )
    events.slice(1).forEach((e, i) => assert.equal(e.prev_hash, events[i]?.hash))
  })

  test('the export holds the requests with who, what and which rule', () => {
    const decided = events.filter((e) => e.type === 'request.decided')
    assert.deepEqual(
      decided.map((e) => [e.agent, e.decision, e.rule, e.code]),
      [
        ['bot', 'allow', 'main/open', null],
        ['bot', 'deny', 'main/deny-admin', 'TOLLGATE_POLICY_DENIED'],
        ['bot', 'deny', null, 'TOLLGATE_POLICY_NO_MATCH'],
        ['helper', 'deny', 'main/deny-admin', 'TOLLGATE_POLICY_DENIED'],
      ],
    )
  })

  test('export refuses a format other than jsonl', async () => {
    const csv = await ws.run(['audit', 'export', '--format', 'csv'])
    assert.equal(csv.code, 1)
    assert.match(csv.stderr, /TOLLGATE_INVALID_ARGUMENT: the only export format is jsonl/)
  })

  test('query --agent --decision filters to exactly the matching events', async () => {
    const query = await ws.run(['audit', 'query', '--agent', 'bot', '--decision', 'deny'])
    assert.equal(query.code, 0, query.stderr)
    const expected = events.filter((e) => e.agent === 'bot' && e.decision === 'deny')
    assert.equal(expected.length, 2)
    const seqs = linesOf(query.stdout).map((line) => Number(line.split('\t')[0]))
    assert.deepEqual(
      seqs,
      expected.map((e) => e.seq),
    )
    assert.match(query.stdout, /\tbot\tGET http:\/\/127\.0\.0\.1:\d+\/admin\/x\tdeny /)

    const json = await ws.run(['audit', 'query', '--agent', 'helper', '--json'])
    const helper = linesOf(json.stdout).map((line) => JSON.parse(line) as Event)
    assert.ok(helper.length > 0 && helper.every((e) => e.agent === 'helper'))
  })

  test('query --request finds a refused request by the id its agent was sent', async () => {
    assert.match(refusedId, /^req_/)
    const query = await ws.run(['audit', 'query', '--request', refusedId, '--json'])
    assert.equal(query.code, 0, query.stderr)
    const found = linesOf(query.stdout).map((line) => JSON.parse(line) as Event)
    assert.deepEqual(
      found.map((e) => [e.type, e.path, e.code]),
      [['request.decided', '/nowhere', 'TOLLGATE_POLICY_NO_MATCH']],
    )
  })

  test('query --request gives an allowed request its decision and its completion', async () => {
    const allowed = events.find((e) => e.type === 'request.decided' && e.decision === 'allow')
    assert.ok(allowed?.request_id)
    const query = await ws.run(['audit', 'query', '--request', allowed.request_id, '--json'])
    assert.equal(query.code, 0, query.stderr)
    const found = linesOf(query.stdout).map((line) => JSON.parse(line) as Event)
    assert.deepEqual(
      found.map((e) => [e.type, e.path]),
      [
        ['request.decided', '/open/x'],
        ['request.completed', '/open/x'],
      ],
    )
  })

  test('query --since rejects a value that is not a time', async () => {
    const bad = await ws.run(['audit', 'query', '--since', 'yesterday'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /TOLLGATE_INVALID_ARGUMENT: --since is not a time/)
  })

  test('tail -n 3 prints the newest three events, oldest first', async () => {
    const tail = await ws.run(['audit', 'tail', '-n', '3'])
    assert.equal(tail.code, 0, tail.stderr)
    const seqs = linesOf(tail.stdout).map((line) => Number(line.split('\t')[0]))
    assert.deepEqual(
      seqs,
      events.slice(-3).map((e) => e.seq),
    )
    assert.equal(events.at(-1)?.type, 'relay.stopped')
    assert.match(tail.stdout, /\trelay\.stopped\t/)
  })

  test('verify exits 0 on the intact trail and names its head', async () => {
    const verify = await ws.run(['audit', 'verify'])
    assert.equal(verify.code, 0, verify.stdout)
    assert.equal(verify.stdout, `ok: ${events.length} events, head ${events.at(-1)?.hash}\n`)
  })

  test('verify exits 1 after an event body is edited, and 0 once it is restored', async () => {
    const denied = events.find((e) => e.rule === 'main/deny-admin')
    assert.ok(denied)
    const db = new BetterSqlite3(ws.dbPath)
    try {
      const row = db.prepare('SELECT body FROM audit_events WHERE seq = ?').get(denied.seq) as {
        body: string
      }
      const edited = row.body.replace('"decision":"deny"', '"decision":"allow"')
      assert.notEqual(edited, row.body)
      const update = db.prepare('UPDATE audit_events SET body = ? WHERE seq = ?')
      update.run(edited, denied.seq)

      const tampered = await ws.run(['audit', 'verify'])
      assert.equal(tampered.code, 1)
      assert.match(tampered.stdout, new RegExp(`^FAILED at seq ${denied.seq}: `))

      update.run(row.body, denied.seq)
      assert.equal((await ws.run(['audit', 'verify'])).code, 0)
    } finally {
      db.close()
    }
  })

  test('verify exits 1 with seq_gap after a middle event is deleted', async () => {
    const middle = events[Math.floor(events.length / 2)]
    assert.ok(middle)
    const db = new BetterSqlite3(ws.dbPath)
    try {
      db.prepare('DELETE FROM audit_events WHERE seq = ?').run(middle.seq)
    } finally {
      db.close()
    }
    const verify = await ws.run(['audit', 'verify'])
    assert.equal(verify.code, 1)
    // It names the missing seq, and vouches for everything before it.
    const intact = middle.seq - 1
    assert.equal(
      verify.stdout,
      `FAILED at seq ${middle.seq}: seq_gap (${intact} events intact before it)\n`,
    )
  })
})
