import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { METHODS } from 'node:http'
import {
  createWorkspace,
  parseLogLine,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, rawRequest } from '../../helpers/raw-http.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { DECISION_LINE_FIELDS, hostileConfig } from './hostile-config.js'

/** Strings that go into headers and queries, where the log must never show them. */
const MARKERS = {
  userAgent: 'mrk-user-agent-7f3a',
  headerName: 'x-mrk-header-name-7f3a',
  headerValue: 'mrk-header-value-7f3a',
  query: 'mrk-query-7f3a',
  credential: 'mrk-credential-7f3a',
}

/** A path that tries to close the log line's JSON string and add fields of its own. */
const JSON_BREAKER = `/x/a"},"level":60,"msg":"forged","agent":"root`

const LABEL_VALUES: Record<string, ReadonlySet<string>> = {
  decision: new Set([
    'allow',
    'deny',
    'would_deny',
    'unauthenticated',
    'malformed',
    'limited',
    'error',
  ]),
  listener: new Set(['forward', 'tunnel', 'reverse']),
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/gy

/** The relay's own series (process metrics aside), checked line by line against the format. */
function relaySeries(exposition: string): Map<string, Record<string, string>> {
  const series = new Map<string, Record<string, string>>()
  const lines = exposition.split('\n')
  assert.equal(lines.pop(), '', 'the exposition ends with a newline')
  for (const line of lines) {
    // prom-client puts a blank line between metric families.
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const sample = SAMPLE.exec(line)
    assert.ok(sample, `not a Prometheus sample: ${JSON.stringify(line.slice(0, 200))}`)
    const labels = parseLabels(sample[3] ?? '')
    const name = sample[1] ?? ''
    if (name.startsWith('tollgate_') && !name.startsWith('tollgate_process_')) {
      series.set(`${name}{${sample[3] ?? ''}}`, labels)
    }
  }
  return series
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text)
    assert.ok(match, `malformed labels: ${text}`)
    labels[match[1] ?? ''] = match[2] ?? ''
  }
  return labels
}

describe('hostile agent: what it sends cannot grow the metrics or forge the log', () => {
  let ws: CliWorkspace
  let http: EchoUpstream
  let serve: ServeProcess
  let token: string
  const longPath = `/x/${'l'.repeat(16_000)}`

  /** Sends `bytes` on a connection of its own (requests carry `Connection: close`). */
  const sendAll = async (requests: string[]) => {
    for (let i = 0; i < requests.length; i += 16) {
      await Promise.all(requests.slice(i, i + 16).map((r) => rawRequest(serve.proxyPort, r)))
    }
  }
  const request = (method: string, authority: string, path: string, extra = '') =>
    `${method} http://${authority}${path} HTTP/1.1\r\nHost: ${authority}\r\n` +
    `Proxy-Authorization: ${basicAuth('bot', token)}\r\n${extra}Connection: close\r\n\r\n`

  /** One round of odd requests; every value is new in each round. */
  function oddRequests(round: string): string[] {
    const upstream = `127.0.0.1:${http.port}`
    const methods = METHODS.filter((m) => m !== 'CONNECT')
    return [
      ...methods.map((m, i) => request(m, upstream, `/open/${round}/${i}`)),
      ...['get', 'FOO', 'G\x1bT', `X${round.toUpperCase()}`].map((m) =>
        request(m, upstream, `/open/${round}`),
      ),
      ...Array.from({ length: 60 }, (_, i) => request('GET', `h${round}-${i}.example`, '/')),
      ...Array.from({ length: 60 }, (_, i) =>
        request('GET', upstream, `/x/${round}/${i}/%7E'<>{}|^\`$!*`),
      ),
      request('GET', upstream, JSON_BREAKER),
      request('GET', upstream, `/open/${round}\x1b[31m`),
      request('GET', upstream, `/open/${round}?k=${MARKERS.query}&${MARKERS.query}`),
      request('GET', upstream, longPath),
      request(
        'GET',
        upstream,
        `/open/${round}/headers`,
        `User-Agent: ${MARKERS.userAgent}\r\n` +
          `${MARKERS.headerName}: ${MARKERS.headerValue}\r\n` +
          `X-Long: ${'v'.repeat(8000)}\r\n`,
      ),
      request('GET', upstream, `/open/${round}`, `X-Escape: a\x1b[31mb\r\n`),
      `GET http://${upstream}/open/${round} HTTP/1.1\r\nHost: ${upstream}\r\n` +
        `Proxy-Authorization: Basic ${Buffer.from(`bot:${MARKERS.credential}`).toString('base64')}\r\n` +
        'Connection: close\r\n\r\n',
    ]
  }

  const scrape = async () =>
    relaySeries(await (await fetch(`http://127.0.0.1:${serve.controlPort}/metrics`)).text())

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    ws = createWorkspace()
    ws.writeFile('upstream-ca.pem', tls.caPem)
    ws.writeConfig(hostileConfig({ http: http.port, https: http.port + 1 }))
    const issued = await ws.run(['token', 'issue', '--agent', 'bot'])
    assert.equal(issued.code, 0, issued.stderr)
    token = issued.stdout.trim()
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await http.close()
    ws.remove()
  })

  test('the metrics have no series for hosts, paths, methods or headers, however many are sent', async () => {
    await sendAll(oddRequests('one'))
    const first = await scrape()
    await sendAll(oddRequests('two'))
    const second = await scrape()

    assert.deepEqual([...second.keys()].sort(), [...first.keys()].sort(), 'no new series')
    const requests = [...second].filter(([key]) => key.startsWith('tollgate_requests_total{'))
    assert.ok(requests.length >= 3, 'allowed, denied and malformed requests were counted')
    for (const [key, labels] of second) {
      for (const [name, value] of Object.entries(labels)) {
        const allowed = LABEL_VALUES[name]
        if (allowed) assert.ok(allowed.has(value), `${key}: ${name}="${value}"`)
      }
    }
  })

  test('every log line is one JSON object, bounded, and shows no header, query or credential', () => {
    const lines = serve.lines.filter((line) => line !== '')
    const decisions = lines.map(parseLogLine).filter((log) => log?.['event'] === 'request')
    assert.ok(decisions.length > 200, `the decision lines are there (${decisions.length})`)

    for (const line of lines) {
      const log = parseLogLine(line)
      assert.ok(log !== null && !Array.isArray(log), `not one JSON object: ${line.slice(0, 200)}`)
      // The request head is capped at 32 KiB; a line carries at most one path from it.
      assert.ok(line.length < 34 * 1024, `a log line of ${line.length} characters`)
      assert.ok(!hasControlCharacter(line), `a raw control character: ${line.slice(0, 200)}`)
      for (const marker of [...Object.values(MARKERS), token, token.slice(4)]) {
        assert.ok(!line.includes(marker), `${marker} logged: ${line.slice(0, 200)}`)
      }
    }
    for (const log of decisions) {
      const extra = Object.keys(log ?? {}).filter((key) => !DECISION_LINE_FIELDS.has(key))
      assert.deepEqual(extra, [], 'only the documented fields')
    }

    const breaker = decisions.find((log) => log?.['path'] === JSON_BREAKER)
    assert.equal(breaker?.['agent'], 'bot', 'the quoted path stayed one string')
    assert.equal(breaker?.['level'], 40)
    assert.ok(
      decisions.some((log) => log?.['path'] === longPath),
      'the long path was logged',
    )
  })
})
