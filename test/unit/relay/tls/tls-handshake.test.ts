// Real TLS on loopback: the relay side wraps accepted sockets exactly as the relay will, with
// `new TLSSocket(socket, options)`, and Node's own client verifies what it is served.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { TLSSocket, connect, type ConnectionOptions } from 'node:tls'

import { CertificateAuthority } from '../../../../src/relay/tls/certificate-authority.js'
import { LeafCache } from '../../../../src/relay/tls/leaf-cache.js'
import { createInterceptionTls } from '../../../../src/relay/tls/sni-callback.js'

interface Handshake {
  authorized: boolean
  authorizationError: string | null
  subjectaltname: string | undefined
  alpnProtocol: string | false | null
  reply: string
}

let ca: CertificateAuthority
let cache: LeafCache
let server: Server
let connectHost = 'api.example.test'

// The server's reply reports what the relay would check after the handshake.
async function interceptTunnel(socket: Socket): Promise<void> {
  const tls = await createInterceptionTls(cache, connectHost)
  const secured = new TLSSocket(socket, tls.options)
  secured.on('error', () => secured.destroy())
  secured.once('secure', () => {
    secured.end(`${tls.getServername() ?? '-'} ${String(tls.sniMatchesTarget())}`)
  })
}

before(async () => {
  ca = await CertificateAuthority.generate()
  cache = new LeafCache(ca)
  server = createServer((socket) => void interceptTunnel(socket).catch(() => socket.destroy()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

function handshake(options: ConnectionOptions): Promise<Handshake> {
  const { port } = server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options })
    let reply = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (reply += chunk))
    socket.on('error', reject)
    socket.on('end', () => resolve(summarise(socket, reply)))
  })
}

function summarise(socket: TLSSocket, reply: string): Handshake {
  return {
    authorized: socket.authorized,
    authorizationError: socket.authorizationError?.toString() ?? null,
    subjectaltname: socket.getPeerCertificate().subjectaltname,
    alpnProtocol: socket.alpnProtocol,
    reply,
  }
}

test('a client trusting the CA verifies the SNI host and its DNS SAN', async () => {
  connectHost = 'api.example.test'
  const result = await handshake({ servername: 'api.example.test', ca: ca.certificatePem })

  assert.equal(result.authorized, true)
  assert.equal(result.subjectaltname, 'DNS:api.example.test')
  assert.equal(result.reply, 'api.example.test true')
})

test('an IP target without SNI gets an IP SAN that verifies', async () => {
  connectHost = '127.0.0.1'
  const result = await handshake({ ca: ca.certificatePem })

  assert.equal(result.authorized, true)
  assert.equal(result.subjectaltname, 'IP Address:127.0.0.1')
  assert.equal(result.reply, '- true')
})

test('a client that does not trust the CA fails verification', async () => {
  connectHost = 'api.example.test'
  const stranger = await CertificateAuthority.generate()
  const options = { servername: 'api.example.test', rejectUnauthorized: false }

  const untrusted = await handshake({ ...options, ca: stranger.certificatePem })
  const systemRoots = await handshake(options)

  assert.equal(untrusted.authorized, false)
  assert.equal(untrusted.authorizationError, 'SELF_SIGNED_CERT_IN_CHAIN')
  assert.equal(systemRoots.authorized, false)
})

test('SNI naming another host gets the target certificate and is reported', async () => {
  connectHost = 'api.example.test'
  const options = { ca: ca.certificatePem, rejectUnauthorized: false }
  const cachedHosts = cache.size

  const result = await handshake({ ...options, servername: 'Evil.Example.TEST' })

  assert.equal(result.subjectaltname, 'DNS:api.example.test')
  assert.equal(result.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID')
  assert.equal(result.reply, 'evil.example.test false')
  assert.equal(cache.size, cachedHosts)
})

test('ALPN negotiates http/1.1 even when the client prefers h2', async () => {
  connectHost = 'api.example.test'
  const options = { servername: 'api.example.test', ca: ca.certificatePem }
  const result = await handshake({ ...options, ALPNProtocols: ['h2', 'http/1.1'] })

  assert.equal(result.alpnProtocol, 'http/1.1')
})

// Failing loudly beats silently speaking HTTP/2 that the relay cannot govern.
test('a client offering only h2 is refused with the no-application-protocol alert', async () => {
  connectHost = 'api.example.test'
  const options = { servername: 'api.example.test', ca: ca.certificatePem }
  await assert.rejects(handshake({ ...options, ALPNProtocols: ['h2'] }), {
    code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
  })
})
