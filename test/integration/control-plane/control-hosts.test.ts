import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { lookup } from 'node:dns/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { request, type IncomingHttpHeaders } from 'node:http'
import { hostname } from 'node:os'
import { loadConfigFile } from '../../../src/config/load.js'
import { ControlServer } from '../../../src/control-plane/control-server.js'
import { RelayMetrics } from '../../../src/control-plane/metrics.js'
import { createSilentLogger } from '../../../src/observability/logger.js'
import { curl } from '../../helpers/curl.js'
import { headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A GET with exactly this `Host`, on a connection of its own, as node:http sends it. */
function get(port: number, path: string, host: string, address = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, agent: false, headers: { host } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Asserts the relay's own 421 refusal: code in the header and the JSON body, no metrics. */
function assertRefused(answer: Answer, what: string): void {
  assert.equal(answer.status, 421, what)
  assert.equal(answer.headers['tollgate-error'], 'TOLLGATE_CONTROL_HOST_REFUSED', what)
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, what)
  const body = JSON.parse(answer.body) as { error: { code: string }; request_id: string }
  assert.equal(body.error.code, 'TOLLGATE_CONTROL_HOST_REFUSED', what)
  assert.equal(body.request_id, answer.headers['tollgate-request-id'], what)
  assert.ok(!answer.body.includes('tollgate_'), `${what}: no metrics in the answer`)
}

const PROMETHEUS = 'prometheus.monitoring.svc'

describe('control listener: DNS rebinding, by Host', () => {
  let tg: Harness
  let port: number

  const refusalLines = () =>
    tg.logs.filter((line) => line.includes('"event":"control.host_refused"'))
  const configureHosts = async (hosts: string) => {
    const config = readFileSync(tg.configPath, 'utf8')
    const control = /^ {2}control: .*$/m
    assert.match(config, control)
    writeFileSync(
      tg.configPath,
      config.replace(control, `  control: { listen: 127.0.0.1:0${hosts} }`),
    )
    await tg.service.applyConfig(loadConfigFile(tg.configPath))
  }

  before(async () => {
    tg = await startTollgate('')
    port = tg.controlPort
  })

  after(async () => {
    await tg.stop()
  })

  test('a name the listener does not answer to is refused with 421, and logged once', async () => {
    const refused = await get(port, '/metrics', `EVIL.Example.:${port}`)
    assertRefused(refused, 'evil.example')

    const [line, ...more] = refusalLines()
    assert.ok(line, 'a warning line for the refusal')
    assert.deepEqual(more, [])
    const logged = JSON.parse(line) as Record<string, unknown>
    assert.equal(logged['level'], 40)
    assert.equal(logged['host'], 'evil.example', 'the canonical host, not the raw header')
    assert.equal(logged['requestId'], refused.headers['tollgate-request-id'])
    assert.equal(logged['code'], 'TOLLGATE_CONTROL_HOST_REFUSED')
    assert.ok(!tg.logs.some((l) => l.includes('EVIL.Example.')), 'the raw header is not echoed')
  })

  test('more refusals within the minute are counted, not each logged', async () => {
    for (const host of ['a.evil.example', 'b.evil.example', 'c.evil.example']) {
      assertRefused(await get(port, '/healthz', host), host)
    }
    assert.equal(refusalLines().length, 1)
  })

  test('IP literals and localhost names are answered, by curl and by node:http', async () => {
    const byCurl = await curl([`http://127.0.0.1:${port}/healthz`])
    assert.equal(byCurl.status, 200)
    assert.equal((JSON.parse(byCurl.body) as { status: string }).status, 'ok')
    const asLocalhost = await curl(['-H', 'Host: localhost', `http://127.0.0.1:${port}/metrics`])
    assert.equal(asLocalhost.status, 200)
    assert.match(asLocalhost.body, /^# TYPE tollgate_requests_total counter$/m)

    const answered = [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      '127.1',
      `[::1]:${port}`,
      '[0:0:0:0:0:0:0:1]',
      '10.1.2.3:9090',
      'localhost',
      `LOCALHOST.:${port}`,
      'metrics.localhost',
    ]
    for (const host of answered) {
      const answer = await get(port, '/healthz', host)
      assert.equal(answer.status, 200, host)
    }
  })

  test('names that only look local, and Host headers that are not one host, are refused', async () => {
    const refused = [
      'localhost.evil.example',
      '127.0.0.1.evil.example',
      'evil-localhost',
      'vm-localhost.example',
      `user@127.0.0.1:${port}`,
      '127.0.0.1:99999',
      '[::1',
      'evil.example/..',
    ]
    for (const host of refused) assertRefused(await get(port, '/healthz', host), host)
  })

  test('the Host check comes before routing: an unknown path is 421, not 404', async () => {
    assertRefused(await get(port, '/sandboxes', 'evil.example'), '/sandboxes')
    assert.equal((await get(port, '/sandboxes', '127.0.0.1')).status, 404)
  })

  test('a request without Host is refused: HTTP/1.0 on a raw socket, HTTP/1.1 from curl', async () => {
    const raw = await rawRequest(port, 'GET /metrics HTTP/1.0\r\n\r\n')
    assert.equal(statusOf(raw), 421)
    assert.equal(headerOf(raw, 'tollgate-error'), 'TOLLGATE_CONTROL_HOST_REFUSED')
    assert.ok(!raw.includes('tollgate_requests_total'))

    // Node's parser would answer an HTTP/1.1 request without Host with a bare 400.
    const noHost = await curl(['-H', 'Host:', `http://127.0.0.1:${port}/metrics`])
    assert.equal(noHost.status, 421)
    assert.equal(noHost.headers['tollgate-error'], 'TOLLGATE_CONTROL_HOST_REFUSED')
  })

  test('two Host headers are refused, even when both are answered alone', async () => {
    const raw = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(statusOf(raw), 421)
    assert.equal(headerOf(raw, 'tollgate-error'), 'TOLLGATE_CONTROL_HOST_REFUSED')
  })

  test('a refusal closes the connection', async () => {
    const raw = await rawRequest(
      port,
      'GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n' +
        'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    )
    assert.equal(statusOf(raw), 421)
    assert.equal(headerOf(raw, 'connection'), 'close')
    assert.ok(!raw.includes('tollgate_requests_total'), 'the pipelined request is not answered')
  })

  test('a name in server.control.hosts is answered once a reload brings it in', async () => {
    assertRefused(await get(port, '/metrics', `${PROMETHEUS}:${port}`), 'before the reload')

    await configureHosts(`, hosts: [Prometheus.Monitoring.SVC.]`)
    try {
      const scrape = await get(port, '/metrics', `${PROMETHEUS}:${port}`)
      assert.equal(scrape.status, 200)
      assert.match(scrape.body, /^# TYPE tollgate_requests_total counter$/m)
      const spelled = await get(port, '/healthz', `${PROMETHEUS.toUpperCase()}.`)
      assert.equal(spelled.status, 200)
      assertRefused(await get(port, '/metrics', `x.${PROMETHEUS}`), 'a subdomain of the name')
    } finally {
      await configureHosts('')
    }
    assertRefused(await get(port, '/metrics', PROMETHEUS), 'after it is removed again')
  })
})

describe('control listener bound by a name', () => {
  test('answers the name it listens on', async (t) => {
    const name = hostname().toLowerCase()
    const address = await lookup(name, { family: 4 }).catch(() => null)
    if (address === null || name === 'localhost') {
      t.skip(`this machine's name (${name}) does not resolve to an IPv4 address`)
      return
    }

    const control = new ControlServer(
      new RelayMetrics(),
      { ready: () => true, configVersion: () => 'sha256:test' },
      { logger: createSilentLogger(), hosts: () => [] },
    )
    const { port } = await control.listen({ host: name, port: 0 })
    try {
      const answer = await get(port, '/healthz', `${name}:${port}`, address.address)
      assert.equal(answer.status, 200)
      assertRefused(await get(port, '/healthz', `not-${name}`, address.address), 'another name')
    } finally {
      await control.close()
    }
  })
})
