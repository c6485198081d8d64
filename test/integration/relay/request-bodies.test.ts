import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { curl } from '../../helpers/curl.js'
import { basicAuth, headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { sendThroughProxy, startBodyUpstream, type BodyUpstream } from './body-upstream.js'

const PLACEHOLDER = 'tg-placeholder-0001'
const STRAY = 'tg-placeholder-elsewhere'
const SECRET = 'ph-SECRET-value-3456-longer-than-the-placeholder'
const HEADER_SECRET = 'hdr-SECRET-value-1234'
const MIB = 1024 * 1024

function bodyTestConfig(httpPort: number, httpsPort: number): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
policies:
  - name: main
    rules:
      - name: placeholder
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        methods: [GET, POST]
        paths: ["/placeholder/**"]
        credential: placeholder-key
        allowPlaintextCredential: true
      - name: header
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/header/**"]
        credential: header-key
        allowPlaintextCredential: true
      - name: open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        methods: [GET, POST]
        paths: ["/open/**"]
      - name: tls-placeholder
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${httpsPort}]
        methods: [POST]
        paths: ["/api/**"]
        credential: placeholder-key
credentials:
  - name: placeholder-key
    secret: placeholder-secret
    hosts: ["127.0.0.1"]
    placeholder: { value: "${PLACEHOLDER}" }
  - name: elsewhere-key
    secret: elsewhere-secret
    hosts: ["api.elsewhere.test"]
    placeholder: { value: "${STRAY}" }
  - name: header-key
    secret: header-secret
    hosts: ["127.0.0.1"]
    header: { name: X-Api-Key, format: "{secret}" }
routes:
  - name: echo
    upstream: http://127.0.0.1:${httpPort}/placeholder
upstreams:
  - host: "127.0.0.1"
    caFile: ./upstream-ca.pem
`
}

describe('request bodies: placeholder swap, size limit, decoded response limit', () => {
  let http: BodyUpstream
  let https: BodyUpstream
  let tg: Harness
  let auth: string
  let token: string
  const url = (path: string) => `http://127.0.0.1:${http.port}${path}`

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startBodyUpstream()
    https = await startBodyUpstream(tls)
    tg = await startTollgate(
      bodyTestConfig(http.port, https.port),
      { 'upstream-ca.pem': tls.caPem },
      '  limits: { requestBody: 2m, decodedResponse: 20m }\n',
    )
    tg.setSecret('placeholder-secret', SECRET)
    tg.setSecret('elsewhere-secret', 'else-SECRET-value-7890')
    tg.setSecret('header-secret', HEADER_SECRET)
    token = tg.issueToken('bot').token
    auth = basicAuth('bot', token)
  })

  after(async () => {
    await tg.stop()
    await http.close()
    await https.close()
  })

  const eventsFor = (path: string) => tg.auditEvents().filter((e) => e.path === path)

  test('a small JSON body has its placeholder swapped and is sent with its new length', async () => {
    const body = JSON.stringify({ key: PLACEHOLDER, again: `Bearer ${PLACEHOLDER}` })
    const res = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      body,
      url('/placeholder/small'),
    ])
    assert.equal(res.status, 200, res.stderr)

    const seen = http.received.at(-1)
    const expected = body.replaceAll(PLACEHOLDER, SECRET)
    assert.equal(seen?.body.toString(), expected)
    assert.equal(seen?.headers['content-length'], String(Buffer.byteLength(expected)))
    assert.equal(seen?.headers['transfer-encoding'], undefined)
    // The upstream echoes the swapped body: the agent sees the mask, never the secret.
    assert.ok(!res.body.includes(SECRET), 'echoed secret scrubbed')
    assert.ok(res.body.includes('*'.repeat(SECRET.length)))
  })

  test('a chunked body is swapped as it streams, with a placeholder split between chunks', async () => {
    const head = Buffer.from(`{"pad":"${'p'.repeat(40_000)}","key":"${PLACEHOLDER.slice(0, 7)}`)
    const tail = Buffer.from(`${PLACEHOLDER.slice(7)}","more":"${PLACEHOLDER}"}`)
    // The second chunk is sent only once the padding before the placeholder's start has
    // reached the upstream: the relay has then taken the first chunk on its own, and the start
    // it holds back must be completed by the next chunk.
    const passable = 30_000
    const res = await sendThroughProxy(
      tg.proxyPort,
      url('/placeholder/chunked'),
      auth,
      [head, tail],
      {},
      () => waitFor(() => http.arriving.bytes >= passable, 'the first chunk upstream'),
    )
    assert.equal(res.status, 200)

    const seen = http.received.at(-1)
    const sent = Buffer.concat([head, tail]).toString()
    assert.equal(seen?.body.toString(), sent.replaceAll(PLACEHOLDER, SECRET))
    assert.equal(seen?.headers['transfer-encoding'], 'chunked')
    assert.ok(!res.body.toString().includes(SECRET))
  })

  test('a body over the swap buffer with a Content-Length is swapped and sent chunked', async () => {
    const piece = `${'x'.repeat(300_000)}${PLACEHOLDER}`
    const body = Buffer.from(piece.repeat(4))
    assert.ok(body.length > MIB)
    const res = await sendThroughProxy(tg.proxyPort, url('/placeholder/large'), auth, [body], {
      'content-length': body.length,
    })
    assert.equal(res.status, 200)

    const seen = http.received.at(-1)
    assert.equal(seen?.body.toString(), piece.replaceAll(PLACEHOLDER, SECRET).repeat(4))
    assert.equal(seen?.headers['content-length'], undefined)
    assert.equal(seen?.headers['transfer-encoding'], 'chunked')
  })

  test('a gzip or brotli body is decoded, swapped and encoded again', async () => {
    const plain = JSON.stringify({ key: PLACEHOLDER, pad: 'x'.repeat(100_000) })
    for (const [coding, encode, decode] of [
      ['gzip', gzipSync, gunzipSync],
      ['br', brotliCompressSync, brotliDecompressSync],
    ] as const) {
      const body = encode(plain)
      const res = await sendThroughProxy(
        tg.proxyPort,
        url(`/placeholder/${coding}`),
        auth,
        [body],
        {
          'content-length': body.length,
          'content-encoding': coding,
        },
      )
      assert.equal(res.status, 200, coding)
      const seen = http.received.at(-1)
      assert.equal(seen?.headers['content-encoding'], coding)
      assert.equal(seen?.headers['content-length'], undefined, 'the new length is not known')
      const decoded = decode(seen?.body ?? Buffer.alloc(0)).toString()
      assert.equal(decoded, plain.replace(PLACEHOLDER, SECRET), coding)
    }
  })

  test('a token in a small body read whole for its swap is refused, nothing sent', async () => {
    const before = http.received.length
    const body = JSON.stringify({ key: PLACEHOLDER, leak: token })
    const res = await sendThroughProxy(
      tg.proxyPort,
      url('/placeholder/token'),
      auth,
      [Buffer.from(body)],
      {
        'content-length': Buffer.byteLength(body),
        'content-type': 'application/json',
      },
    )
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_TOKEN_EXFILTRATION')
    assert.equal(http.received.length, before, 'the upstream never got the request')
  })

  test("another credential's placeholder is caught inside a compressed body", async () => {
    const before = http.received.length
    const body = gzipSync(JSON.stringify({ steal: STRAY, pad: 'y'.repeat(50_000) }))
    const res = await sendThroughProxy(tg.proxyPort, url('/open/gz-stray'), auth, [body], {
      'content-length': body.length,
      'content-encoding': 'gzip',
    })
    assert.equal(res.status, 403)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_PLACEHOLDER_MISUSE')
    assert.equal(http.received.length, before, 'the upstream never got a whole request')
  })

  test('a body in a coding the relay cannot read is refused before the decision is kept', async () => {
    const res = await sendThroughProxy(tg.proxyPort, url('/open/zstd'), auth, [Buffer.from('x')], {
      'content-length': 1,
      'content-encoding': 'zstd',
    })
    assert.equal(res.status, 415)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_BODY_ENCODING')
    await waitFor(() => eventsFor('/open/zstd').length > 0, 'the refusal on record')
    assert.deepEqual(
      eventsFor('/open/zstd').map((e) => [e.type, e.code]),
      [['request.rejected', 'TOLLGATE_BODY_ENCODING']],
    )
  })

  test('a compressed body that does not decode is refused as malformed', async () => {
    const before = http.received.length
    const body = Buffer.concat([gzipSync('start'), Buffer.from('not gzip at all')]).subarray(5)
    const res = await sendThroughProxy(tg.proxyPort, url('/open/bad-gzip'), auth, [body], {
      'content-length': body.length,
      'content-encoding': 'gzip',
    })
    assert.equal(res.status, 400)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_MALFORMED_REQUEST')
    assert.equal(http.received.length, before)
  })

  test('a small compressed body that inflates past the limit is cut: 413', async () => {
    const before = http.received.length
    const body = gzipSync(Buffer.alloc(3 * MIB)) // about 3 KiB on the wire
    const res = await sendThroughProxy(tg.proxyPort, url('/open/inflating'), auth, [body], {
      'content-length': body.length,
      'content-encoding': 'gzip',
    })
    assert.equal(res.status, 413)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_BODY_TOO_LARGE')
    assert.equal(http.received.length, before)
  })

  test('a body where nothing is swapped keeps its bytes and its Content-Length', async () => {
    const body = Buffer.from(`plain ${PLACEHOLDER} on a rule without a credential`)
    const open = await sendThroughProxy(tg.proxyPort, url('/open/plain'), auth, [body], {
      'content-length': body.length,
    })
    assert.equal(open.status, 200)
    assert.deepEqual(http.received.at(-1)?.body, body)
    assert.equal(http.received.at(-1)?.headers['content-length'], String(body.length))

    const clean = Buffer.from('no placeholder here')
    await sendThroughProxy(tg.proxyPort, url('/placeholder/clean'), auth, [clean], {
      'content-length': clean.length,
    })
    assert.deepEqual(http.received.at(-1)?.body, clean)
    assert.equal(http.received.at(-1)?.headers['content-length'], String(clean.length))
  })

  test("another credential's placeholder in a swapped body is refused, small or streamed", async () => {
    const before = http.received.length
    const small = Buffer.from(`{"key":"${PLACEHOLDER}","leak":"${STRAY}"}`)
    const refused = await sendThroughProxy(tg.proxyPort, url('/placeholder/stray'), auth, [small], {
      'content-length': small.length,
    })
    assert.equal(refused.status, 403)
    assert.equal(refused.headers['tollgate-error'], 'TOLLGATE_PLACEHOLDER_MISUSE')

    const chunks = [
      Buffer.from(`{"key":"${PLACEHOLDER}","leak":"tg-place`),
      Buffer.from('holder-elsewhere"}'),
    ]
    const streamed = await sendThroughProxy(tg.proxyPort, url('/placeholder/stray'), auth, chunks)
    assert.equal(streamed.status, 403)
    assert.equal(streamed.headers['tollgate-error'], 'TOLLGATE_PLACEHOLDER_MISUSE')
    const reached = http.received.slice(before)
    assert.ok(
      reached.every((r) => !r.body.includes(STRAY)),
      'never sent',
    )
  })

  test('the swap works on reverse routes and inside intercepted tunnels', async () => {
    const body = `{"key":"${PLACEHOLDER}"}`
    const reverse = await rawRequest(
      tg.reversePort,
      `POST /echo/rev HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    )
    assert.equal(statusOf(reverse), 200)
    assert.equal(http.received.at(-1)?.body.toString(), `{"key":"${SECRET}"}`)
    assert.ok(!reverse.includes(SECRET))

    const tunnel = await curl([
      '-x',
      tg.proxyUrl('bot', token),
      '--cacert',
      tg.caFile,
      '--data-binary',
      body,
      `https://127.0.0.1:${https.port}/api/x`,
    ])
    assert.equal(tunnel.status, 200, tunnel.stderr)
    assert.equal(https.received.at(-1)?.body.toString(), `{"key":"${SECRET}"}`)
    assert.ok(!tunnel.body.includes(SECRET))
  })

  test('a declared Content-Length over the limit is refused 413 before anything is sent', async () => {
    const before = http.received.length
    const response = await rawRequest(
      tg.proxyPort,
      `POST ${url('/open/huge')} HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n` +
        `Proxy-Authorization: ${auth}\r\nContent-Length: ${3 * MIB}\r\n\r\nstart of a body`,
    )
    assert.equal(statusOf(response), 413)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_BODY_TOO_LARGE')
    assert.equal(http.received.length, before, 'the upstream saw nothing')

    await waitFor(() => eventsFor('/open/huge').length > 0, 'the refusal on record')
    const events = eventsFor('/open/huge')
    assert.deepEqual(
      events.map((e) => [e.type, e.agent, e.decision, e.code, e.status]),
      [['request.rejected', 'bot', 'limited', 'TOLLGATE_BODY_TOO_LARGE', 413]],
      'one event, and no allowed decision before it',
    )
  })

  test('a chunked body that grows past the limit is cut: 413, upstream aborted, on record', async () => {
    const before = http.received.length
    const chunks = Array.from({ length: 48 }, () => Buffer.alloc(64 * 1024, 0x61))
    const res = await sendThroughProxy(tg.proxyPort, url('/open/growing'), auth, chunks)
    assert.equal(res.status, 413)
    assert.equal(res.headers['tollgate-error'], 'TOLLGATE_BODY_TOO_LARGE')

    await waitFor(() => eventsFor('/open/growing').length === 2, 'decision and completion')
    const completed = eventsFor('/open/growing').find((e) => e.type === 'request.completed')
    assert.equal(completed?.decision, 'limited')
    assert.equal(completed?.code, 'TOLLGATE_BODY_TOO_LARGE')
    assert.equal(completed?.status, 413)
    assert.ok((completed?.bytes_in ?? 0) > 2 * MIB)
    assert.equal(http.received.length, before, 'the upstream never got a whole request')
  })

  test('a gzip bomb is decoded only up to decodedResponse, then cut and recorded', async () => {
    const res = await sendThroughProxy(tg.proxyPort, url('/header/gzip-bomb'), auth, [])
    assert.equal(res.status, 200)
    assert.equal(res.complete, false, 'the connection was cut')
    // Deflate cannot reach the expansion check, so the size limit (20 MiB) is what stopped it.
    assert.ok(res.body.length <= 20 * MIB && res.body.length > 19 * MIB, `${res.body.length}`)

    await waitFor(() => eventsFor('/header/gzip-bomb').length === 2, 'the completion')
    const completed = eventsFor('/header/gzip-bomb').find((e) => e.type === 'request.completed')
    assert.equal(completed?.code, 'TOLLGATE_RESPONSE_TOO_LARGE')
    assert.equal(completed?.upstream_error, 'decoded body over limit')
    assert.equal(completed?.decision, 'limited')
  })

  test('a brotli bomb is cut by its expansion ratio well before the size limit', async () => {
    const res = await sendThroughProxy(tg.proxyPort, url('/header/br-bomb'), auth, [])
    assert.equal(res.status, 200)
    assert.equal(res.complete, false)
    assert.ok(res.body.length <= 16 * MIB && res.body.length > 15 * MIB, `${res.body.length}`)

    await waitFor(() => eventsFor('/header/br-bomb').length === 2, 'the completion')
    const completed = eventsFor('/header/br-bomb').find((e) => e.type === 'request.completed')
    assert.equal(completed?.upstream_error, 'decoded body over limit')
  })
})
