import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
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

  test('an override naming an allowed method, and plain data, pass byte for byte', async () => {
    const form = Buffer.from(`method=card&_method=GET&pad=${'p'.repeat(5000)}`)
    const res = await send('/ok', [form], { ...FORM, 'content-length': form.length })
    assert.equal(res.status, 200)
    const seen = http.received.at(-1)
    assert.deepEqual(seen?.body, form)
    assert.equal(seen?.headers['content-length'], String(form.length))
  })
})
