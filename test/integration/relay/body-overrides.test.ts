import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { AGENT_LEFT, AGENT_LEFT_MID_BODY } from '../../../src/relay/exchange/record.js'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { sendThroughProxy, startBodyUpstream, type BodyUpstream } from './body-upstream.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const JSON_TYPE = { 'content-type': 'application/json' }

/**
 * `_method` in a POSTed body, with no placeholder credential configured (so nothing else holds
 * bytes back): a refused override must leave the upstream without a complete request, even
 * when the body has a `Content-Length` and the field is its very end.
 */
describe('method overrides in request bodies', () => {
  let http: BodyUpstream
  let tg: Harness
  let auth: string
  const url = (path: string) => `http://127.0.0.1:${http.port}${path}`

  before(async () => {
    http = await startBodyUpstream()
    tg = await startTollgate(`
people: [{ email: alice@example.com, teams: [platform] }]
agents: [{ name: bot, owner: alice@example.com, team: platform, policies: [main] }]
policies:
  - name: main
    rules:
      - name: post-and-get
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${http.port}]
        methods: [GET, POST]
`)
    auth = basicAuth('bot', tg.issueToken('bot').token)
  })

  after(async () => {
    await tg.stop()
    await http.close()
  })

  const send = (path: string, chunks: Buffer[], headers: Record<string, string | number>) =>
    sendThroughProxy(tg.proxyPort, url(path), auth, chunks, headers)

  test('a form whose last field overrides to a forbidden method never completes upstream', async () => {
    const before = http.received.length
    const body = Buffer.from('note=hello&_method=DELETE')
    const res = await send('/form', [body], { ...FORM, 'content-length': body.length })
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(http.received.length, before, 'the upstream got a whole request')
  })

  test('a long JSON body, streamed, with the override at its end', async () => {
    const before = http.received.length
    const chunks = [
      Buffer.from(`{"text": "${'x'.repeat(200_000)}", `),
      Buffer.from('"\\u005fmethod": "delete"}'),
    ]
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
    const res = await send('/json', chunks, { ...JSON_TYPE, 'content-length': length })
    assert.equal(res.status, 403)
    assert.equal(http.received.length, before, 'the upstream got a whole request')
  })

  test('an agent that hangs up mid-body: decided, then completed with the reason', async () => {
    const before = http.received.length
    const socket = connect(tg.proxyPort, '127.0.0.1')
    socket.on('error', () => undefined)
    const host = `127.0.0.1:${http.port}`
    socket.write(
      `POST http://${host}/gone HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${auth}\r\n` +
        'Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part',
    )
    const events = () => tg.auditEvents().filter((e) => e.path === '/gone')
    await waitFor(() => events().length === 1, 'the decision')
    socket.destroy()

    await waitFor(() => events().length === 2, 'the completion')
    const [decided, completed] = events()
    assert.equal(decided?.type, 'request.decided')
    assert.equal(decided?.decision, 'allow')
    assert.equal(completed?.type, 'request.completed')
    assert.equal(completed?.decision, 'allow')
    assert.equal(completed?.upstream_error, AGENT_LEFT_MID_BODY)
    assert.equal(http.received.length, before, 'no whole request reached the upstream')
  })

  test('an agent that hangs up while its decision is being written: nothing goes', async () => {
    const before = http.received.length
    // Holding the store's write lock keeps the relay's audit commit waiting (busy timeout).
    tg.db.exec('BEGIN IMMEDIATE')
    const socket = connect(tg.proxyPort, '127.0.0.1')
    socket.on('error', () => undefined)
    const host = `127.0.0.1:${http.port}`
    socket.write(
      `POST http://${host}/left HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${auth}\r\n` +
        'Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part',
    )
    await new Promise((resolve) => setTimeout(resolve, 200))
    socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 200))
    tg.db.exec('COMMIT')

    const events = () => tg.auditEvents().filter((e) => e.path === '/left')
    await waitFor(() => events().length === 2, 'the decision and the completion')
    const [decided, completed] = events()
    assert.equal(decided?.type, 'request.decided')
    assert.equal(completed?.type, 'request.completed')
    assert.equal(completed?.decision, 'allow')
    assert.equal(completed?.upstream_error, AGENT_LEFT)
    assert.equal(http.received.length, before)
  })

  test('an override naming an allowed method, and plain data, pass byte for byte', async () => {
    const form = Buffer.from(`method=card&_method=GET&pad=${'p'.repeat(5000)}`)
    const res = await send('/ok', [form], { ...FORM, 'content-length': form.length })
    assert.equal(res.status, 200)
    const seen = http.received.at(-1)
    assert.deepEqual(seen?.body, form)
    assert.equal(seen?.headers['content-length'], String(form.length))
  })
})
