import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { createWorkspace, type CliWorkspace, type ServeProcess } from '../../helpers/cli.js'
import { cliTestConfig, SECRETS } from './cli-config.js'

describe('tollgate ca: the PEM agents trust for intercepted HTTPS', () => {
  let ws: CliWorkspace
  let https: EchoUpstream
  let serve: ServeProcess
  let caPem = ''
  let caFile = ''
  let proxy = ''
  const url = () => `https://127.0.0.1:${https.port}/header/x`

  before(async () => {
    const tls = await createUpstreamTls()
    https = await startEchoUpstream(tls)
    ws = createWorkspace()
    ws.writeFile('upstream-ca.pem', tls.caPem)
    ws.writeConfig(cliTestConfig({ http: 9, https: https.port, caFile: './upstream-ca.pem' }))
  })

  after(async () => {
    await serve?.kill()
    await https.close()
    ws.remove()
  })

  test('ca prints one PEM CA certificate, the same on every call', async () => {
    const first = await ws.run(['ca'])
    assert.equal(first.code, 0, first.stderr)
    assert.match(
      first.stdout,
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/,
    )
    const certificate = new X509Certificate(first.stdout)
    assert.equal(certificate.ca, true)
    assert.equal(first.stdout.match(/BEGIN/g)?.length, 1, 'the certificate only, no key')

    const second = await ws.run(['ca'])
    assert.equal(second.stdout, first.stdout)
    caPem = first.stdout
    caFile = ws.writeFile('relay-ca.pem', caPem)
  })

  test('curl trusting that PEM reaches an HTTPS upstream through CONNECT', async () => {
    const set = await ws.run(['secret', 'set', 'header-secret'], {
      stdin: SECRETS['header-secret'],
    })
    assert.equal(set.code, 0, set.stderr)
    serve = await ws.serve()
    const issued = await ws.run(['token', 'issue', '--agent', 'bot'])
    proxy = `http://bot:${issued.stdout.trim()}@127.0.0.1:${serve.proxyPort}`

    const res = await curl(['--cacert', caFile, '-x', proxy, url()])
    assert.equal(res.exitCode, 0, res.stderr)
    assert.equal(res.status, 200)
    assert.equal(https.received.at(-1)?.headers['x-api-key'], `Key ${SECRETS['header-secret']}`)
  })

  test('the CA serve uses is the one ca printed', () => {
    const onDisk = readFileSync(join(ws.stateDir, 'ca', 'ca.crt.pem'), 'utf8')
    assert.equal(onDisk.trim(), caPem.trim())
  })

  test('without that PEM, curl refuses the intercepted certificate', async () => {
    const before = https.received.length
    const res = await curl(['-x', proxy, url()])
    assert.equal(res.exitCode, 60, `curl: peer certificate not trusted (${res.stderr})`)
    assert.equal(https.received.length, before, 'nothing reached the upstream')
  })
})
