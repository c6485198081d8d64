import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { curl } from '../../helpers/curl.js'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { relayTestConfig, SECRETS } from './policy-config.js'

describe('forward proxy: decide, inject, record (curl through the relay)', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let proxy: string
  let token: string
  const base = () => `http://127.0.0.1:${http.port}`

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(relayTestConfig(http.port, https.port), {
      'upstream-ca.pem': tls.caPem,
    })
    for (const [name, value] of Object.entries(SECRETS)) tg.setSecret(name, value)
    token = tg.issueToken('bot').token
    proxy = tg.proxyUrl('bot', token)
  })

  after(async () => {
    await tg.stop()
    await http.close()
    await https.close()
  })

  test('an allowed request reaches the upstream and the header credential replaces the agent copy', async () => {
    const res = await curl(['-x', proxy, '-H', 'X-Api-Key: agent-supplied', `${base()}/header/x`])
    assert.equal(res.status, 200)
    const seen = http.received.at(-1)
    assert.equal(seen?.headers['x-api-key'], SECRETS['header-secret'])
    assert.equal(seen?.headers['proxy-authorization'], undefined, 'proxy credentials never leave')
  })

  test('the injected value is scrubbed from the echoed headers and body', async () => {
    const res = await curl(['-x', proxy, `${base()}/header/echo`])
    assert.equal(res.status, 200)
    assert.ok(!res.body.includes(SECRETS['header-secret']), 'body scrubbed')
    assert.ok(!JSON.stringify(res.headers).includes(SECRETS['header-secret']), 'headers scrubbed')
    assert.ok(res.body.includes('*'.repeat(SECRETS['header-secret'].length)))
  })

  test('an encoding the relay cannot decode is refused, never passed on unscrubbed', async () => {
    const res = await curl(['-x', proxy, `${base()}/header/odd-encoding`])
    assert.equal(res.status, 502)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_UPSTREAM_ENCODING')
    assert.ok(!res.body.includes(SECRETS['header-secret']))
  })

  test('a method override cannot turn an allowed POST into a DELETE', async () => {
    const before = http.received.length
    const header = await curl([
      '-x',
      proxy,
      '-X',
      'POST',
      '-d',
      'x',
      '-H',
      'X-HTTP-Method-Override: DELETE',
      `${base()}/open/x`,
    ])
    assert.equal(header.status, 403)
    const param = await curl([
      '-x',
      proxy,
      '-X',
      'POST',
      '-d',
      'x',
      `${base()}/open/x?_method=delete`,
    ])
    assert.equal(param.status, 403)
    assert.equal(http.received.length, before, 'neither reached the upstream')

    const allowed = await curl([
      '-x',
      proxy,
      '-X',
      'POST',
      '-d',
      'x',
      '-H',
      'X-HTTP-Method-Override: GET',
      `${base()}/open/x`,
    ])
    assert.equal(allowed.status, 200)
  })

  test('basic credentials are injected as the Authorization header', async () => {
    await curl(['-x', proxy, '-u', 'agent:guess', `${base()}/basic/x`])
    const expected = Buffer.from(`robot:${SECRETS['basic-secret']}`).toString('base64')
    assert.equal(http.received.at(-1)?.headers.authorization, `Basic ${expected}`)
  })

  test('a query credential replaces every agent-supplied copy of the parameter', async () => {
    await curl(['-x', proxy, `${base()}/query/x?a=1&api_key=mine&api_key=again`])
    const url = new URL(http.received.at(-1)?.url ?? '', 'http://x')
    assert.deepEqual(url.searchParams.getAll('api_key'), [SECRETS['query-secret']])
    assert.equal(url.searchParams.get('a'), '1')
  })

  test('a placeholder is swapped for the secret on a bound host', async () => {
    await curl([
      '-x',
      proxy,
      '-H',
      'Authorization: Bearer tg-placeholder-0001',
      `${base()}/placeholder/x`,
    ])
    assert.equal(
      http.received.at(-1)?.headers.authorization,
      `Bearer ${SECRETS['placeholder-secret']}`,
    )
  })

  test('a placeholder sent to a host its credential is not bound to is refused as exfiltration', async () => {
    const before = http.received.length
    const res = await curl([
      '-x',
      proxy,
      '-H',
      'X-Leak: tg-placeholder-elsewhere',
      `${base()}/open/x`,
    ])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_PLACEHOLDER_MISUSE')
    assert.equal(http.received.length, before, 'nothing reached the upstream')
  })

  test('a placeholder of another host inside a request body is caught before it is sent', async () => {
    const before = http.received.length
    const body = JSON.stringify({ note: 'x'.repeat(5000), leak: 'tg-placeholder-elsewhere' })
    const res = await curl([
      '-x',
      proxy,
      '-X',
      'POST',
      '--data-binary',
      body,
      `${base()}/open/body`,
    ])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_PLACEHOLDER_MISUSE')
    const reached = http.received.slice(before)
    assert.ok(
      reached.every((r) => !r.body.includes('tg-placeholder-elsewhere')),
      'never sent',
    )

    const clean = await curl([
      '-x',
      proxy,
      '-X',
      'POST',
      '--data-binary',
      'plain',
      `${base()}/open/body`,
    ])
    assert.equal(clean.status, 200)
  })

  test('no rule matched: 403 with a stable code in header and JSON body', async () => {
    const res = await curl(['-x', proxy, `${base()}/nowhere`])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(JSON.parse(res.body).error.code, 'TOLLGATE_POLICY_NO_MATCH')
  })

  test('a deny rule beats an allow and is named in the response', async () => {
    const res = await curl(['-x', proxy, `${base()}/admin/users`])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_POLICY_DENIED')
    assert.equal(JSON.parse(res.body).error.rule, 'main/deny-admin')
  })

  test('dot segments are resolved before deciding, so ../ cannot reach a denied path', async () => {
    const res = await curl(['-x', proxy, '--path-as-is', `${base()}/open/../admin/users`])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_POLICY_DENIED')
  })

  test('a credential is not injected over plain HTTP unless the rule allows it', async () => {
    const res = await curl(['-x', proxy, `${base()}/tls-only/x`])
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_CREDENTIAL_PLAINTEXT')
  })

  test('no credentials: 407 with Proxy-Authenticate', async () => {
    const res = await curl(['-x', `http://127.0.0.1:${tg.proxyPort}`, `${base()}/open/x`])
    assert.equal(res.status, 407)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_AUTH_REQUIRED')
    assert.match(res.headers['proxy-authenticate'] ?? '', /Basic/)
  })

  test('an unknown token and a token of another agent are both 407', async () => {
    const unknown = await curl([
      '-x',
      tg.proxyUrl('bot', 'tgt_' + 'A'.repeat(43)),
      `${base()}/open/x`,
    ])
    assert.equal(unknown.headers['tollgate-error'], 'TOLLGATE_AUTH_INVALID')
    const { token } = tg.issueToken('watcher')
    const mismatch = await curl(['-x', tg.proxyUrl('bot', token), `${base()}/open/x`])
    assert.equal(mismatch.headers['tollgate-error'], 'TOLLGATE_AUTH_AGENT_MISMATCH')
  })

  test('an expired token is refused', async () => {
    const { token } = tg.issueToken('bot', 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const res = await curl(['-x', tg.proxyUrl('bot', token), `${base()}/open/x`])
    assert.equal(res.status, 407)
  })

  test('report mode forwards what it would deny and records would_deny', async () => {
    const { token } = tg.issueToken('watcher')
    const res = await curl(['-x', tg.proxyUrl('watcher', token), `${base()}/header/not-in-trial`])
    assert.equal(res.status, 200)
    assert.equal(
      http.received.at(-1)?.headers['x-api-key'],
      undefined,
      'no credential on would_deny',
    )
    const events = tg.auditEvents()
    const last = events.filter((e) => e.agent === 'watcher' && e.type === 'request.decided').at(-1)
    assert.equal(last?.decision, 'would_deny')
  })

  test('the relay never follows redirects and scrubs the secret from Location', async () => {
    const before = http.received.length
    const redirect = await curl(['-x', proxy, `${base()}/header/redirect`])
    assert.equal(redirect.status, 302)
    assert.equal(http.received.length, before + 1, 'the redirect was not followed')
    assert.ok(redirect.headers.location?.includes('echo='))
    assert.ok(!redirect.headers.location?.includes(SECRETS['header-secret']))
  })

  test('numeric host spellings are decided as the address they stand for', async () => {
    // curl rewrites numeric hosts itself, so these are sent raw.
    const auth = basicAuth('bot', token)
    for (const host of ['2130706433', '0x7f.1', '127.1', '0177.0.0.1']) {
      const response = await rawRequest(
        tg.proxyPort,
        `GET http://${host}:${http.port}/admin/x HTTP/1.1\r\nHost: ${host}:${http.port}\r\n` +
          `Proxy-Authorization: ${auth}\r\nConnection: close\r\n\r\n`,
      )
      assert.equal(statusOf(response), 403, host)
      assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_POLICY_DENIED', host)
    }
  })

  test('ambiguous targets are refused with 400', async () => {
    const auth = basicAuth('bot', token)
    const disagreeing = await rawRequest(
      tg.proxyPort,
      `GET ${base()}/open/x HTTP/1.1\r\nHost: other.test\r\n` +
        `Proxy-Authorization: ${auth}\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(headerOf(disagreeing, 'tollgate-error'), 'TOLLGATE_AMBIGUOUS_TARGET')
    const encoded = await curl(['-x', proxy, '--path-as-is', `${base()}/open/..%2Fadmin`])
    assert.equal(encoded.headers['tollgate-error'], 'TOLLGATE_BAD_PATH')
  })

  test('every decision is in the audit trail with who, what and which rule', () => {
    const events = tg.auditEvents()
    const denied = events.find((e) => e.rule === 'main/deny-admin')
    assert.equal(denied?.agent, 'bot')
    assert.equal(denied?.owner, 'alice@example.com')
    assert.equal(denied?.team, 'platform')
    assert.equal(denied?.decision, 'deny')
    const injected = events.find((e) => e.type === 'request.completed' && e.rule === 'main/query')
    assert.deepEqual(injected?.credentials, ['query-key'])
    assert.match(injected?.path ?? '', /api_key=REDACTED/)
    assert.ok(events.some((e) => e.type === 'auth.failed' && e.code === 'TOLLGATE_AUTH_REQUIRED'))
  })
})
