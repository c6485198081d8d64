import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'

// The store really failing, not a stand-in: another connection to the same SQLite file makes
// the relay's own statements fail, the way a corrupted or tampered store would.
describe('failing closed: when the audit trail or the store cannot be used, nothing goes out', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let auth: string

  before(async () => {
    upstream = await startEchoUpstream()
    tg = await startTollgate(`
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
policies:
  - name: open
    rules:
      - name: all
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${upstream.port}]
`)
    auth = basicAuth('bot', tg.issueToken('bot').token)
  })

  after(async () => {
    tg.db.exec('DROP TRIGGER IF EXISTS refuse_audit')
    await tg.stop()
    await upstream.close()
  })

  const get = (path: string, proxyAuth = auth) =>
    rawRequest(
      tg.proxyPort,
      `GET http://127.0.0.1:${upstream.port}${path} HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${upstream.port}\r\nProxy-Authorization: ${proxyAuth}\r\n` +
        'Connection: close\r\n\r\n',
    )

  test('an audit write that fails refuses the request with 503 and forwards nothing', async () => {
    assert.equal(statusOf(await get('/before')), 200)

    tg.db.exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END`)
    const refused = await get('/while-refused')
    assert.equal(statusOf(refused), 503)
    assert.equal(headerOf(refused, 'tollgate-error'), 'TOLLGATE_AUDIT_UNAVAILABLE')
    assert.doesNotMatch(refused, /audit refused by the test/, 'the cause stays in the log')
    assert.ok(!upstream.received.some((r) => r.url === '/while-refused'))

    // Recovery needs no restart: the next request is written and forwarded.
    tg.db.exec('DROP TRIGGER refuse_audit')
    assert.equal(statusOf(await get('/after')), 200)
    assert.ok(upstream.received.some((r) => r.url === '/after'))
  })

  test('a token store that cannot be read refuses a new token rather than waving it through', async () => {
    const fresh = basicAuth('bot', tg.issueToken('bot').token)
    tg.db.exec('ALTER TABLE tokens RENAME TO tokens_hidden')
    try {
      const refused = await get('/store-gone', fresh)
      assert.equal(statusOf(refused), 503)
      assert.equal(headerOf(refused, 'tollgate-error'), 'TOLLGATE_STORE_UNAVAILABLE')
      assert.ok(!upstream.received.some((r) => r.url === '/store-gone'))
    } finally {
      tg.db.exec('ALTER TABLE tokens_hidden RENAME TO tokens')
    }
    assert.equal(statusOf(await get('/store-back', fresh)), 200)
  })
})
