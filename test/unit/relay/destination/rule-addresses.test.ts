import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isConfigError } from '../../../../src/config/config-error.js'
import { loadConfigFile } from '../../../../src/config/load.js'
import { PolicyEngine } from '../../../../src/policy/engine.js'

function load(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-addr-'))
  try {
    const path = join(dir, 'tollgate.yaml')
    writeFileSync(path, `version: 1\n${yaml}`)
    return loadConfigFile(path)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const BASE = `
people: [{ email: a@example.com, teams: [t] }]
agents: [{ name: bot, owner: a@example.com, team: t, policies: [p] }]
policies:
  - name: p
    rules:
`

void describe('rule addresses and server.dns in the configuration', () => {
  void test('addresses are carried to the decision of the allowing rule', () => {
    const { config } =
      load(`${BASE}      - { name: internal, hosts: [db.internal], addresses: ["10.0.0.0/8"] }
      - { name: public, hosts: [api.example.com] }
server: { dns: { servers: ["127.0.0.1:5353", "::1", "[::1]:53"] } }
`)
    assert.deepEqual(config.policies[0]?.rules[0]?.addresses, ['10.0.0.0/8'])
    assert.equal(config.policies[0]?.rules[1]?.addresses, undefined)
    assert.deepEqual(config.server.dns, { servers: ['127.0.0.1:5353', '::1', '[::1]:53'] })

    const engine = PolicyEngine.compile(config.policies, config.agents)
    const target = (host: string) =>
      ({ scheme: 'https', host, port: 443, method: 'GET', path: '/' }) as const
    assert.ok(engine.decide('bot', target('db.internal')).addresses)
    assert.equal(engine.decide('bot', target('api.example.com')).addresses, undefined)
  })

  void test('bad ranges, /0, host bits, deny rules and bad DNS servers are refused with their key', () => {
    const bad = `${BASE}      - { name: r1, hosts: [a.example.com], addresses: ["10.0.0.1/8", "0.0.0.0/0", "10.0.0.0/40"] }
      - { name: r2, effect: deny, hosts: [b.example.com], addresses: ["10.0.0.0/8"] }
server: { dns: { servers: ["dns.example.com", "1.2.3.4:99999"] } }
`
    assert.throws(
      () => load(bad),
      (err: unknown) => {
        assert.ok(isConfigError(err))
        const text = err.format()
        for (const key of [
          'policies[0].rules[0].addresses[0]',
          'policies[0].rules[0].addresses[1]',
          'policies[0].rules[0].addresses[2]',
          'policies[0].rules[1].addresses',
          'server.dns.servers[0]',
          'server.dns.servers[1]',
        ]) {
          assert.ok(text.includes(key), `${key} in ${text}`)
        }
        return true
      },
    )
  })
})
