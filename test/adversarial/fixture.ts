import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateCa } from '../../src/relay/tls/certificate-authority.js'
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js'
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js'
import { basicAuth } from '../helpers/raw-http.js'
import { startTollgate, type Harness } from '../helpers/tollgate-harness.js'

/** A listener that must never be reached: it counts every connection and says nothing. */
export interface Sentinel {
  where: string
  hits: number
  close(): Promise<void>
}

/** Everything the corpus runs against, and the values its `{name}` substitutions stand for. */
export interface AdversarialFixture {
  tg: Harness
  dns: DnsServer
  echo: EchoUpstream
  tlsEcho: EchoUpstream
  sentinels: Sentinel[]
  /** Secret name → value, as stored; none may ever reach the agent. */
  secrets: Record<string, string>
  vars: Record<string, string>
  /** Stops the relay gracefully (once; later calls share the first stop). */
  stopRelay(): Promise<void>
  /** Stops everything, upstreams first so that no request the relay left open holds it up. */
  stop(): Promise<void>
}

/** Secret values with `/`, `+` and `=`, so that their URL, base64 and hex forms all differ. */
export const SECRETS = {
  'header-secret': 'hdr/SECRET+value=0123456789abcdef',
  'placeholder-secret': 'ph/SECRET+value=fedcba9876543210',
  'elsewhere-secret': 'else/SECRET+value=0011223344556677',
} as const

export const PLACEHOLDERS = { echo: 'tg-ph-echo-0001', elsewhere: 'tg-ph-elsewhere-0002' }

/**
 * Names the relay resolves through the test's own DNS server. Only `echo.test`, `other.test`
 * and `secure.test` may be reached, and only by the narrow agent; every other answer is an
 * address no rule allows, several of them where a sentinel listens.
 */
const DNS_TABLE: Record<string, string[]> = {
  'echo.test': ['127.0.0.1'],
  'other.test': ['127.0.0.1'],
  'secure.test': ['127.0.0.1'],
  'sentinel.test': ['127.0.0.2'],
  'sentinel6.test': ['::1'],
  localhost: ['127.0.0.1', '::1'],
  'sub.localhost': ['127.0.0.1'],
  '127.0.0.1.nip.test': ['127.0.0.1'],
  'private.test': ['10.0.0.1'],
  'cgnat.test': ['100.64.0.1'],
  'linklocal.test': ['169.254.1.1'],
  'metadata.google.internal': ['169.254.169.254'],
  'aws-v6-metadata.test': ['fd00:ec2::254'],
  'ecs-metadata.test': ['169.254.170.2'],
  'alibaba-metadata.test': ['100.100.100.200'],
  'azure-wireserver.test': ['168.63.129.16'],
  'zero.test': ['0.0.0.0'],
  'unspecified6.test': ['::'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'nat64.test': ['64:ff9b::7f00:1'],
  'sixtofour.test': ['2002:7f00:1::1'],
  'ula.test': ['fd12:3456::1'],
  'multicast.test': ['224.0.0.1'],
  'mixed.test': ['93.184.215.14', '127.0.0.1'],
  'mixed-reverse.test': ['127.0.0.1', '93.184.215.14'],
}

function config(echo: number, sentinel: number, tls: number): string {
  return `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [narrow] }
  - { name: roamer, owner: alice@example.com, team: platform, policies: [roam] }
policies:
  - name: narrow
    rules:
      - name: admin-denied
        effect: deny
        schemes: [http]
        hosts: [echo.test]
        ports: [${echo}]
        paths: ["/allowed/admin/**"]
      - name: echo-allowed
        schemes: [http]
        hosts: [echo.test, other.test]
        ports: [${echo}]
        methods: [GET, POST]
        paths: ["/allowed/**"]
        addresses: ["127.0.0.1/32"]
      - name: echo-header
        schemes: [http]
        hosts: [echo.test]
        ports: [${echo}]
        methods: [GET, POST]
        paths: ["/cred/header/**"]
        credential: header-key
        allowPlaintextCredential: true
        addresses: ["127.0.0.1/32"]
      - name: echo-placeholder
        schemes: [http]
        hosts: [echo.test]
        ports: [${echo}]
        methods: [GET, POST]
        paths: ["/cred/ph/**"]
        credential: placeholder-key
        allowPlaintextCredential: true
        addresses: ["127.0.0.1/32"]
      - name: echo-tls-only
        schemes: [http]
        hosts: [echo.test]
        ports: [${echo}]
        paths: ["/cred/tls-only/**"]
        credential: header-key
        addresses: ["127.0.0.1/32"]
      - name: secure-allowed
        schemes: [https]
        hosts: [secure.test]
        ports: [${tls}]
        methods: [GET, POST]
        paths: ["/allowed/**", "/cred/header/**"]
        credential: header-key
        addresses: ["127.0.0.1/32"]
  # Any host, but only public addresses: what is left to stop SSRF is the address check.
  - name: roam
    rules:
      - name: anywhere
        schemes: [http]
        hosts: ["*"]
        ports: [80, 443, ${echo}, ${sentinel}]
        methods: [GET]
credentials:
  - name: header-key
    secret: header-secret
    hosts: [echo.test, secure.test]
    header: { name: X-Api-Key, format: "{secret}" }
  - name: placeholder-key
    secret: placeholder-secret
    hosts: [echo.test]
    placeholder: { value: "${PLACEHOLDERS.echo}" }
  - name: elsewhere-key
    secret: elsewhere-secret
    hosts: [elsewhere.test]
    placeholder: { value: "${PLACEHOLDERS.elsewhere}" }
# Reverse routes (see corpus/reverse.ts): one under an allowed base path, ones whose rule
# injects a credential, one without a base path, and ones to hosts no rule lets the agent reach.
routes:
  - { name: echo, upstream: "http://echo.test:${echo}/allowed" }
  - { name: echo-cred, upstream: "http://echo.test:${echo}/cred/header" }
  - { name: echo-ph, upstream: "http://echo.test:${echo}/cred/ph" }
  - { name: echo-root, upstream: "http://echo.test:${echo}" }
  - { name: echo-admin, upstream: "http://echo.test:${echo}/allowed/admin" }
  - { name: secure, upstream: "https://secure.test:${tls}/cred/header" }
  - { name: sentinel, upstream: "http://sentinel.test:${echo}" }
  - { name: private, upstream: "http://private.test:${echo}/allowed" }
upstreams:
  - { host: secure.test, caFile: ./upstream-ca.pem }
`
}

async function startSentinel(host: string, port: number): Promise<Sentinel> {
  const sentinel = { where: '', hits: 0, close: () => Promise.resolve() }
  const server: Server = createServer((socket) => {
    sentinel.hits += 1
    socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  sentinel.where = `${host}:${(server.address() as AddressInfo).port}`
  sentinel.close = () => new Promise((resolve) => server.close(() => resolve()))
  return sentinel
}

/** An HTTPS echo upstream for `secure.test`, with a certificate from a CA of its own. */
async function startTlsEcho(): Promise<{ echo: EchoUpstream; caPem: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-adversarial-ca-'))
  try {
    const ca = await loadOrCreateCa(dir)
    const leaf = await ca.issueLeaf('secure.test')
    const echo = await startEchoUpstream({ cert: leaf.certPem, key: leaf.keyPem })
    return { echo, caPem: ca.certificatePem }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// Short upstream and head timeouts: a case that makes the relay wait fails within its deadline.
const TIMEOUTS = '  timeouts: { connect: 2s, headers: 4s, body: 4s, idle: 30s }\n'

export async function startAdversarialFixture(): Promise<AdversarialFixture> {
  const dns = await startDnsServer()
  for (const [name, addresses] of Object.entries(DNS_TABLE)) dns.set(name, addresses)
  const echo = await startEchoUpstream()
  const tls = await startTlsEcho()

  // Where a host spelling, a rebound name or a fallback would land: another loopback address
  // and IPv6 loopback on the echo's port, and a port of the echo's own address no rule names.
  const sentinels = [
    await startSentinel('127.0.0.2', echo.port),
    await startSentinel('::1', echo.port),
    await startSentinel('127.0.0.1', 0),
  ]
  const sentinelPort = Number(sentinels[2]?.where.split(':').at(-1))

  const dnsLine = `  dns: { servers: ["${dns.address}"] }\n`
  const tg = await startTollgate(
    config(echo.port, sentinelPort, tls.echo.port),
    { 'upstream-ca.pem': tls.caPem },
    dnsLine + TIMEOUTS,
  )
  for (const [name, value] of Object.entries(SECRETS)) tg.setSecret(name, value)

  const bot = tg.issueToken('bot').token
  const roamer = tg.issueToken('roamer').token
  const vars = substitutions(echo.port, sentinelPort, tls.echo.port, bot, roamer)

  let relayStopped: Promise<void> | null = null
  const stopRelay = () => (relayStopped ??= tg.stop())
  return {
    tg,
    dns,
    echo,
    tlsEcho: tls.echo,
    sentinels,
    secrets: { ...SECRETS },
    vars,
    stopRelay,
    stop: async () => {
      await Promise.all([echo.close(), tls.echo.close()])
      await stopRelay()
      await dns.close()
      await Promise.all(sentinels.map((s) => s.close()))
    },
  }
}

function substitutions(
  echo: number,
  sentinel: number,
  tls: number,
  bot: string,
  roamer: string,
): Record<string, string> {
  return {
    P: String(echo),
    S: String(sentinel),
    T: String(tls),
    target: `echo.test:${echo}`,
    secure: `secure.test:${tls}`,
    auth: basicAuth('bot', bot),
    roamer: basicAuth('roamer', roamer),
    'roamer-bearer': `Bearer ${roamer}`,
    'roamer-token': roamer,
    'other-agent': basicAuth('roamer', bot),
    token: bot,
    bearer: `Bearer ${bot}`,
    ph: PLACEHOLDERS.echo,
    'ph-else': PLACEHOLDERS.elsewhere,
    'secret:header': SECRETS['header-secret'],
    'secret:placeholder': SECRETS['placeholder-secret'],
  }
}
