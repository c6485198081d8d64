import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { linesOf } from '../../helpers/cli.js'
import { SECRETS } from '../cli/cli-config.js'
import { CA_VARIABLES } from '../../../src/sandbox/bwrap-argv.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'

// The box sees the host's /usr: these clients run inside it when the host has them.
const PYTHON = '/usr/bin/python3'
const GIT = '/usr/bin/git'
const hostNode = /^\/(usr|bin)\//.test(process.execPath) ? process.execPath : null
const missing = (path: string | null) =>
  (path === null || !existsSync(path)) && process.env['CI'] !== 'true'

/** A Node client: CONNECT through the box's proxy port, then TLS with Node's default trust. */
const NODE_CLIENT = `
import { request } from 'node:http'
import { connect } from 'node:tls'
const target = new URL(process.argv[2])
const authority = target.host
const req = request({ host: '127.0.0.1', port: 3128, method: 'CONNECT', path: authority,
  headers: { host: authority } })
req.on('connect', (res, socket) => {
  const tls = connect({ socket, host: target.hostname })
  let reply = ''
  tls.on('secureConnect', () => tls.write(
    'GET ' + target.pathname + ' HTTP/1.1\\r\\nHost: ' + authority + '\\r\\nConnection: close\\r\\n\\r\\n'))
  tls.on('data', (chunk) => (reply += chunk))
  tls.on('end', () => console.log('node=' + reply.split(' ')[1]))
  tls.on('error', (error) => console.log('node=' + error.code))
})
req.on('error', (error) => console.log('node=' + error.code))
req.end()
`

describe('tollgate run: the box trusts the relay CA without flags', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace
  let caPem = ''

  const box = (script: string) => sb.box(script)
  const received = (path: string) => sb.httpsUpstream?.received.some((r) => r.url === path)

  before(async () => {
    sb = await startSandboxWorkspace(
      async ({ ws }) => {
        const set = await ws.run(['secret', 'set', 'placeholder-secret'], {
          stdin: `${SECRETS['placeholder-secret']}\n`,
        })
        assert.equal(set.code, 0, set.stderr)
        // The CA as `tollgate ca` prints it: what every variable and the bundle must hold.
        const ca = await ws.run(['ca'])
        assert.equal(ca.code, 0, ca.stderr)
        caPem = ca.stdout
      },
      { https: true },
    )
  })

  after(() => sb.stop())

  test('every CA variable and the system bundle hold the relay CA, and only it', async () => {
    // `NAME=FINGERPRINT COUNT`: the certificate's SHA-256 and how many certificates there are.
    const describe = (name: string, file: string) =>
      `echo "${name}=$(openssl x509 -noout -fingerprint -sha256 -in "${file}" | cut -d= -f2)` +
      ` $(grep -c 'BEGIN CERTIFICATE' "${file}")"`
    const checks = CA_VARIABLES.map((name) => describe(name, `$${name}`))
    checks.push(describe('bundle', '/etc/ssl/certs/ca-certificates.crt'))
    const result = await box(checks.join('; '))
    assert.equal(result.code, 0, result.stderr)
    const fingerprint = new X509Certificate(caPem).fingerprint256
    assert.deepEqual(
      linesOf(result.stdout),
      [...CA_VARIABLES, 'bundle'].map((name) => `${name}=${fingerprint} 1`),
    )
  })

  test('curl reaches an HTTPS upstream through the relay, by variable or by system bundle', async () => {
    const curl = (label: string, path: string, env = '') =>
      `${env} curl -s -o /dev/null -w '${label}=%{http_code}\\n' ${sb.httpsUrl(path)}`
    const script = [
      curl('curl', '/placeholder/curl'),
      // Without the variables, curl falls back to the system bundle path.
      curl('system', '/placeholder/curl-system', 'env -u CURL_CA_BUNDLE -u SSL_CERT_FILE'),
      curl('denied', '/admin/curl'),
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), ['curl=200', 'system=200', 'denied=403'])
    assert.ok(received('/placeholder/curl') && received('/placeholder/curl-system'))
  })

  test(
    'Node trusts it through NODE_EXTRA_CA_CERTS',
    { skip: missing(hostNode) && 'Node is not under /usr or /bin' },
    async () => {
      writeFileSync(join(sb.project, 'tls-client.mjs'), NODE_CLIENT)
      const result = await box(`${hostNode} tls-client.mjs ${sb.httpsUrl('/placeholder/node')}`)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(linesOf(result.stdout), ['node=200'])
      assert.ok(received('/placeholder/node'))
    },
  )

  test(
    'Python trusts it through SSL_CERT_FILE and the system bundle',
    { skip: missing(PYTHON) },
    async () => {
      const python = (label: string, path: string, env = '') =>
        `${env} ${PYTHON} -c 'import urllib.request
print("${label}=%d" % urllib.request.urlopen("${sb.httpsUrl(path)}").status)'`
      const script = [
        python('python', '/placeholder/python'),
        python('python-system', '/placeholder/python-system', 'env -u SSL_CERT_FILE'),
      ].join('; ')
      const result = await box(script)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(linesOf(result.stdout), ['python=200', 'python-system=200'])
    },
  )

  test(
    'Git trusts it (GIT_SSL_CAINFO, and the bundle among /etc/ssl/certs)',
    { skip: missing(GIT) },
    async () => {
      // The echo upstream is no Git server, but Git's first request reaching it proves the TLS
      // handshake with the relay succeeded. With an empty CA file and no CA directory (Git's
      // GnuTLS also reads every file in /etc/ssl/certs, the box's bundle among them), it fails.
      const lsRemote = (path: string, env = '') =>
        `${env} GIT_TERMINAL_PROMPT=0 git ls-remote ${sb.httpsUrl(path)} >/dev/null 2>git-err; ` +
        `echo "status=$?"; cat git-err`
      const trusted = await box(lsRemote('/placeholder/repo'))
      assert.equal(trusted.code, 0, trusted.stderr)
      assert.doesNotMatch(trusted.stdout, /certificate|SSL/i)
      const isRefs = (repo: string) =>
        sb.httpsUpstream?.received.some((r) => r.url.startsWith(`/placeholder/${repo}/info/refs`))
      assert.ok(isRefs('repo'), trusted.stdout)

      const untrust = 'GIT_SSL_CAINFO=/dev/null GIT_SSL_CAPATH=/nonexistent'
      const untrusted = await box(lsRemote('/placeholder/other', untrust))
      assert.match(untrusted.stdout, /^status=128$/m)
      assert.ok(!isRefs('other'), untrusted.stdout)
    },
  )
})
