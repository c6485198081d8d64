import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { curl, type CurlResult } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import {
  createWorkspace,
  type CliResult,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { cliTestConfig, leakForms, SECRETS } from './cli-config.js'

type Scheme = 'http' | 'https'

/** One injecting request per credential kind; curl arguments before the URL. */
const REQUESTS: Array<{ kind: string; args: string[]; query?: string }> = [
  { kind: 'header', args: ['-H', 'X-Api-Key: agent-copy'] },
  { kind: 'basic', args: ['-u', 'agent:guess'] },
  { kind: 'query', args: [], query: '?a=1&api_key=mine' },
  { kind: 'placeholder', args: ['-H', 'Authorization: Bearer tg-placeholder-0001'] },
]

/** Where each secret must have arrived, so the sweep is known to have had something to find. */
function injected(upstream: EchoUpstream, kind: string): string | undefined {
  const seen = upstream.received.filter((r) => r.url.startsWith(`/${kind}/`)).at(-1)
  if (kind === 'query')
    return new URL(seen?.url ?? '', 'http://x').searchParams.get('api_key') ?? ''
  const header = kind === 'header' ? seen?.headers['x-api-key'] : seen?.headers.authorization
  return typeof header === 'string' ? header : undefined
}

describe('secret-leak sweep: injected values appear in no log, audit event or response', () => {
  let ws: CliWorkspace
  let http: EchoUpstream
  let https: EchoUpstream
  let serve: ServeProcess
  const cliOutputs: CliResult[] = []
  const responses: CurlResult[] = []

  const run = async (args: string[], stdin?: string) => {
    const result = await ws.run(args, stdin === undefined ? {} : { stdin })
    cliOutputs.push(result)
    assert.equal(result.code, 0, result.stderr)
    return result
  }

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    ws = createWorkspace()
    ws.writeFile('upstream-ca.pem', tls.caPem)
    const ports = { http: http.port, https: https.port, caFile: './upstream-ca.pem' }
    ws.writeConfig(cliTestConfig(ports))
    for (const [name, value] of Object.entries(SECRETS)) {
      await run(['secret', 'set', name], `${value}\n`)
    }
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await http.close()
    await https.close()
    ws.remove()
  })

  test('every kind of credential is injected, over http and through CONNECT', async () => {
    const token = (await run(['token', 'issue', '--agent', 'bot'])).stdout.trim()
    const caFile = ws.writeFile('relay-ca.pem', (await run(['ca'])).stdout)
    const proxy = `http://bot:${token}@127.0.0.1:${serve.proxyPort}`
    const send = async (scheme: Scheme, port: number, kind: string, args: string[], q = '') => {
      const url = `${scheme}://127.0.0.1:${port}/${kind}/echo${q}`
      const res = await curl(['--cacert', caFile, '-x', proxy, ...args, url])
      responses.push(res)
      assert.equal(res.status, 200, `${scheme} ${kind}: ${res.stderr}`)
    }

    for (const { kind, args, query } of REQUESTS) {
      await send('http', http.port, kind, args, query)
      await send('https', https.port, kind, args, query)
    }
    // The echo upstream puts the header credential into a redirect's Location.
    const redirect = await curl(['-x', proxy, `http://127.0.0.1:${http.port}/header/redirect`])
    responses.push(redirect)
    assert.equal(redirect.status, 302)

    const basic = Buffer.from(`robot:${SECRETS['basic-secret']}`).toString('base64')
    for (const upstream of [http, https]) {
      assert.equal(injected(upstream, 'header'), `Key ${SECRETS['header-secret']}`)
      assert.equal(injected(upstream, 'basic'), `Basic ${basic}`)
      assert.equal(injected(upstream, 'query'), SECRETS['query-secret'])
      assert.equal(injected(upstream, 'placeholder'), `Bearer ${SECRETS['placeholder-secret']}`)
    }
  })

  test('the agent-facing responses (status, headers, body) contain no secret in any form', () => {
    assert.equal(responses.length, 9)
    for (const res of responses) {
      const seen = JSON.stringify(res.headers) + res.body + res.stderr
      for (const [name, value] of Object.entries(SECRETS)) {
        for (const form of leakForms(value)) {
          assert.ok(!seen.includes(form), `${name} (as ${form}) reached the agent:\n${seen}`)
        }
      }
    }
  })

  test('no log line, audit event or CLI output contains a secret in any form', async () => {
    const exported = await run(['audit', 'export', '--format', 'jsonl'])
    assert.equal(await serve.stop(), 0)
    const logs = serve.lines.join('\n')
    assert.match(logs, /relay listening/, 'the log was captured')
    assert.ok(exported.stdout.includes('"credentials":["query-key"]'), 'the audit was exported')

    const places = {
      log: logs,
      audit: exported.stdout,
      cli: cliOutputs.map((r) => r.stdout + r.stderr).join('\n'),
    }
    for (const [place, text] of Object.entries(places)) {
      for (const [name, value] of Object.entries(SECRETS)) {
        for (const form of leakForms(value)) {
          assert.ok(!text.includes(form), `${name} (as ${form}) is in the ${place}`)
        }
      }
    }
  })
})

/** An upstream that ignores `Accept-Encoding: identity` and gzips an echo of `X-Api-Key`. */
async function startGzipEchoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const body = gzipSync(JSON.stringify({ echoed: req.headers['x-api-key'] ?? null }))
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': body.length,
    })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('secret-leak sweep: an upstream that compresses anyway', () => {
  let ws: CliWorkspace
  let upstream: { port: number; close(): Promise<void> }
  let serve: ServeProcess

  before(async () => {
    upstream = await startGzipEchoUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: upstream.port }))
    await ws.run(['secret', 'set', 'header-secret'], { stdin: SECRETS['header-secret'] })
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await upstream.close()
    ws.remove()
  })

  test('a gzipped echo of the injected header is decoded, scrubbed and sent plain', async () => {
    const token = (await ws.run(['token', 'issue', '--agent', 'bot'])).stdout.trim()
    const proxy = `http://bot:${token}@127.0.0.1:${serve.proxyPort}`
    const url = `http://127.0.0.1:${upstream.port}/header/echo`
    const res = await curl(['--compressed', '-x', proxy, url])
    assert.equal(res.exitCode, 0, res.stderr)
    assert.equal(res.headers['content-encoding'], undefined, 'sent decoded')
    assert.ok(!res.body.includes(SECRETS['header-secret']), `leaked to the agent: ${res.body}`)
    assert.ok(res.body.includes('*'.repeat(SECRETS['header-secret'].length)), 'masked in place')
  })
})
