import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { isConfigError } from '../../../src/config/config-error.js'
import { loadConfigFile } from '../../../src/config/load.js'
import { BASE, load, validator } from './config-fixtures.js'

const FULL = `
version: 1
server:
  stateDir: ./state
  proxy: { listen: 127.0.0.1:0 }
  reverse: { listen: '[::1]:8081' }
  control: { listen: localhost:8082 }
  timeouts: { connect: 500ms, headers: 2m, body: 1h, idle: 45000 }
  shutdownGrace: 3s
  logLevel: debug
people:
  - email: Alice@Example.com
    name: Alice Example
    teams: [platform, ml]
agents:
  - name: build-bot
    owner: alice@example.com
    team: ml
    policies: [github-read]
    description: CI agent
policies:
  - name: github-read
    mode: report
    description: reads
    rules:
      - name: read-repos
        schemes: [https, http]
        hosts: [API.GitHub.com., "*.githubusercontent.com"]
        ports: [443, 8443]
        methods: [get, HEAD]
        paths: ["/repos/**"]
        credential: github-token
        websocket: true
        allowPlaintextCredential: true
      - name: block
        effect: deny
        hosts: ["[::1]", 10.0.0.1]
credentials:
  - name: github-token
    secret: gh-secret
    hosts: [api.github.com, "*.githubusercontent.com"]
    header: { name: Authorization, format: "Bearer {secret}" }
  - name: basic-cred
    secret: s1
    hosts: [a.example.com]
    basic: { username: bot }
  - name: query-cred
    secret: s2
    hosts: [b.example.com]
    query: { param: api_key }
  - name: swap
    secret: s3
    hosts: [c.example.com]
    placeholder: { value: tg-placeholder-1 }
routes:
  - name: openai
    upstream: HTTPS://API.OpenAI.com/v1/
`

void describe('parseConfigText', () => {
  void test('converts a full configuration into the typed result', () => {
    const { config, path } = load(FULL, '/etc/tollgate/tollgate.yaml')

    assert.equal(path, '/etc/tollgate/tollgate.yaml')
    assert.deepEqual(config.server, {
      stateDir: '/etc/tollgate/state',
      proxy: { host: '127.0.0.1', port: 0 },
      reverse: { host: '::1', port: 8081 },
      control: { host: 'localhost', port: 8082, hosts: [] },
      timeouts: {
        connectMs: 500,
        headersMs: 120_000,
        bodyMs: 3_600_000,
        idleMs: 45_000,
        requestBodyIdleMs: 30_000,
        requestMs: 600_000,
      },
      shutdownGraceMs: 3000,
      limits: {
        connectionsPerAgent: 256,
        tunnelsPerAgent: 128,
        connections: 4096,
        unauthenticatedConnections: 1024,
        unauthenticatedPerAddress: 128,
        rate: null,
        requestBodyBytes: 32 * 1024 ** 2,
        decodedResponseBytes: 256 * 1024 ** 2,
        unauthenticatedAudit: { events: 1000, intervalMs: 10_000 },
      },
      logLevel: 'debug',
      audit: { durability: 'disk' },
    })
    assert.deepEqual(config.people, [
      { email: 'alice@example.com', name: 'Alice Example', teams: ['platform', 'ml'] },
    ])
    assert.deepEqual(config.agents[0], {
      name: 'build-bot',
      owner: 'alice@example.com',
      team: 'ml',
      policies: ['github-read'],
      description: 'CI agent',
    })
  })

  void test('normalises rules and fills rule defaults', () => {
    const [policy] = load(FULL).config.policies

    assert.equal(policy?.mode, 'report')
    assert.deepEqual(policy?.rules[0], {
      name: 'read-repos',
      effect: 'allow',
      schemes: ['https', 'http'],
      hosts: ['api.github.com', '*.githubusercontent.com'],
      ports: [443, 8443],
      methods: ['GET', 'HEAD'],
      paths: ['/repos/**'],
      credential: 'github-token',
      websocket: true,
      allowPlaintextCredential: true,
    })
    assert.deepEqual(policy?.rules[1], {
      name: 'block',
      effect: 'deny',
      schemes: ['https'],
      hosts: ['::1', '10.0.0.1'],
      ports: [],
      methods: [],
      paths: ['/**'],
      credential: null,
      websocket: false,
      allowPlaintextCredential: false,
    })
  })

  void test('converts every credential injection and normalises route upstreams', () => {
    const { config } = load(FULL)

    assert.deepEqual(
      config.credentials.map((c) => c.inject),
      [
        { kind: 'header', header: 'authorization', format: 'Bearer {secret}' },
        { kind: 'basic', username: 'bot' },
        { kind: 'query', param: 'api_key' },
        { kind: 'placeholder', placeholder: 'tg-placeholder-1' },
      ],
    )
    assert.deepEqual(config.routes, [{ name: 'openai', upstream: 'https://api.openai.com/v1' }])
  })

  void test('fills server defaults when the section is absent', () => {
    const { config } = load('version: 1\n', '/srv/conf/tollgate.yaml')

    assert.deepEqual(config.server, {
      stateDir: '/srv/conf/.tollgate',
      proxy: { host: '127.0.0.1', port: 3128 },
      reverse: null,
      control: { host: '127.0.0.1', port: 3130, hosts: [] },
      timeouts: {
        connectMs: 10_000,
        headersMs: 60_000,
        bodyMs: 300_000,
        idleMs: 120_000,
        requestBodyIdleMs: 30_000,
        requestMs: 600_000,
      },
      shutdownGraceMs: 10_000,
      limits: {
        connectionsPerAgent: 256,
        tunnelsPerAgent: 128,
        connections: 4096,
        unauthenticatedConnections: 1024,
        unauthenticatedPerAddress: 128,
        rate: null,
        requestBodyBytes: 32 * 1024 ** 2,
        decodedResponseBytes: 256 * 1024 ** 2,
        unauthenticatedAudit: { events: 1000, intervalMs: 10_000 },
      },
      logLevel: 'info',
      audit: { durability: 'disk' },
    })
    assert.deepEqual(config.agents, [])
    assert.deepEqual(config.upstreams, [])
  })

  void test('an empty reverse section enables the default reverse listener; null disables it', () => {
    const enabled = load('version: 1\nserver:\n  reverse: {}\n').config.server.reverse
    const disabled = load('version: 1\nserver:\n  reverse: null\n').config.server.reverse

    assert.deepEqual(enabled, { host: '127.0.0.1', port: 3129 })
    assert.equal(disabled, null)
  })

  void test('control hosts are kept in lower case without a trailing dot', () => {
    const text = 'version: 1\nserver:\n  control: { hosts: [Prometheus.Example., tollgate] }\n'
    const { control } = load(text).config.server

    assert.deepEqual(control, {
      host: '127.0.0.1',
      port: 3130,
      hosts: ['prometheus.example', 'tollgate'],
    })
  })

  void test('the hash names the exact bytes', () => {
    const text = BASE.join('\n')
    const expected = createHash('sha256').update(text).digest('hex')

    assert.equal(load(text).hash, `sha256:${expected}`)
    assert.notEqual(load(`${text}\n# comment`).hash, load(text).hash)
  })
})

void describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  void test('resolves relative stateDir and caFile against the config directory and reads the CA', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    writeFileSync(join(dir, 'ca.pem'), pem)
    const yaml =
      'version: 1\nserver:\n  stateDir: state\nupstreams:\n  - host: Internal.Example\n    caFile: ./ca.pem\n'
    writeFileSync(join(dir, 'tollgate.yaml'), yaml)

    const { config, path } = loadConfigFile(join(dir, 'tollgate.yaml'), { validator })

    assert.equal(path, join(dir, 'tollgate.yaml'))
    assert.equal(config.server.stateDir, join(dir, 'state'))
    assert.deepEqual(config.upstreams, [
      { host: 'internal.example', caFile: join(dir, 'ca.pem'), caPem: pem },
    ])
  })

  void test('refuses a missing or non-PEM caFile with its line', () => {
    writeFileSync(join(dir, 'not-pem.txt'), 'hello')
    const yaml =
      'version: 1\nupstreams:\n  - host: a.example\n    caFile: missing.pem\n  - host: b.example\n    caFile: not-pem.txt\n'
    const file = join(dir, 'bad-ca.yaml')
    writeFileSync(file, yaml)

    const error = catchError(() => loadConfigFile(file, { validator }))

    assert.ok(isConfigError(error))
    assert.deepEqual(
      error.issues.map((i) => [i.line, i.column, i.path]),
      [
        [4, 13, 'upstreams[0].caFile'],
        [6, 13, 'upstreams[1].caFile'],
      ],
    )
    assert.match(error.issues[0]?.message ?? '', /cannot read .*missing\.pem \(ENOENT\)/)
    assert.match(error.issues[1]?.message ?? '', /holds no PEM certificate/)
  })

  void test('a missing file is TOLLGATE_CONFIG_NOT_FOUND', () => {
    assert.throws(() => loadConfigFile(join(dir, 'nope.yaml'), { validator }), {
      code: 'TOLLGATE_CONFIG_NOT_FOUND',
    })
  })

  void test('refuses bytes that are not UTF-8', () => {
    const file = join(dir, 'latin1.yaml')
    writeFileSync(file, Buffer.from([0x76, 0x65, 0x72, 0x3a, 0xff, 0x0a]))

    const error = catchError(() => loadConfigFile(file, { validator }))

    assert.ok(isConfigError(error))
    assert.equal(error.format(), `${file}: is not valid UTF-8`)
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  assert.fail('expected an error')
}
