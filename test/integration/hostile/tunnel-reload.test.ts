import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { loadConfigFile } from '../../../src/config/load.js'
import { SandboxClient } from '../../../src/control-plane/sandbox-client.js'
import { NO_LIMITS } from '../../../src/sandbox/sandbox-limits.js'
import type { AuditEvent } from '../../../src/audit/event.js'
import { parseLogLine } from '../../helpers/cli.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { hostileConfig } from './hostile-config.js'
import { openTunnel, type WireClient } from './wire.js'

/** A second person and team, for reloads that move an agent to another owner. */
const BOB = `  - email: bob@example.com
    teams: [research]
`

/**
 * A CONNECT tunnel outlives the configuration it was opened under. Every request inside it must
 * be recorded with the owner and team in force when it is made, and stop being served once its
 * agent is gone: an operator who moves an agent to another owner must not find its later
 * requests charged to the old one.
 */
describe('hostile agent: an open tunnel does not keep the identity it was opened with', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let original: string
  const open: WireClient[] = []

  const auth = (agent: string, token: string) =>
    `Proxy-Authorization: ${basicAuth(agent, token)}\r\n`
  const innerGet = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${https.port}\r\n\r\n`
  const tunnelVia = async (proxy: number | string, lines: string) => {
    const client = await openTunnel(proxy, `127.0.0.1:${https.port}`, lines, tg.caPem)
    open.push(client)
    return client
  }
  /** The completion of the one request made to `path`. */
  const completionOf = async (path: string): Promise<AuditEvent> => {
    const find = () =>
      tg.auditEvents().find((e) => e.path === path && e.type === 'request.completed')
    await waitFor(() => find() !== undefined, `the completion of ${path}`)
    return find() as AuditEvent
  }
  const decisionLineOf = (requestId: string | null) =>
    tg.logs
      .map(parseLogLine)
      .find((log) => log?.['event'] === 'request' && log['requestId'] === requestId)

  /** Rewrites the config (from the one the suite started with) and reloads it. */
  const reload = async (edit: (config: string) => string) => {
    const next = edit(original)
    assert.notEqual(next, original, 'the edit changed the config')
    writeFileSync(tg.configPath, next)
    await tg.service.applyConfig(loadConfigFile(tg.configPath))
  }
  const restore = async () => {
    writeFileSync(tg.configPath, original)
    await tg.service.applyConfig(loadConfigFile(tg.configPath))
  }
  const moveBotToBob = (config: string) =>
    config
      .replace('people:\n', `people:\n${BOB}`)
      .replace(
        '- name: bot\n    owner: alice@example.com\n    team: platform',
        '- name: bot\n    owner: bob@example.com\n    team: research',
      )

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(hostileConfig({ http: http.port, https: https.port }), {
      'upstream-ca.pem': tls.caPem,
    })
    original = readFileSync(tg.configPath, 'utf8')
  })

  after(async () => {
    for (const client of open) client.destroy()
    await tg.stop()
    await http.close()
    await https.close()
  })

  test('a request in a tunnel is recorded with the owner and team its agent has now', async () => {
    const { token, id } = tg.issueToken('bot')
    const tunnel = await tunnelVia(tg.proxyPort, auth('bot', token))
    tunnel.send(innerGet('/open/before-move'))
    assert.equal((await tunnel.response(1)).status, 200)
    const first = await completionOf('/open/before-move')
    assert.deepEqual([first.owner, first.team], ['alice@example.com', 'platform'])

    await reload(moveBotToBob)
    try {
      tunnel.send(innerGet('/open/after-move'))
      assert.equal((await tunnel.response(2)).status, 200, 'the tunnel still serves its agent')
      const moved = await completionOf('/open/after-move')
      assert.equal(moved.agent, 'bot')
      assert.equal(moved.token_id, id)
      assert.deepEqual([moved.owner, moved.team], ['bob@example.com', 'research'])
      const line = decisionLineOf(moved.request_id)
      assert.equal(line?.['owner'], 'bob@example.com', 'the decision line names the new owner')
    } finally {
      await restore()
    }
  })

  test("a sandbox's tunnel is recorded with the owner and team its agent has now", async () => {
    const sandboxes = new SandboxClient(tg.stateDir)
    const box = await sandboxes.start('bot', ['true'], NO_LIMITS, { seccomp: false })
    try {
      const tunnel = await tunnelVia(box.socket, '')
      tunnel.send(innerGet('/open/box-before-move'))
      assert.equal((await tunnel.response(1)).status, 200)
      const first = await completionOf('/open/box-before-move')
      assert.deepEqual([first.owner, first.sandbox_id], ['alice@example.com', box.id])

      await reload(moveBotToBob)
      tunnel.send(innerGet('/open/box-after-move'))
      assert.equal((await tunnel.response(2)).status, 200)
      const moved = await completionOf('/open/box-after-move')
      assert.deepEqual([moved.owner, moved.team], ['bob@example.com', 'research'])
      assert.equal(moved.sandbox_id, box.id)
    } finally {
      await sandboxes.stop(box.id)
      await restore()
    }
  })

  test('an agent removed from the config: its open tunnel is closed and serves nothing more', async () => {
    const { token } = tg.issueToken('other')
    const tunnel = await tunnelVia(tg.proxyPort, auth('other', token))
    tunnel.send(innerGet('/other/before-removal'))
    assert.equal((await tunnel.response(1)).status, 200)

    await reload((config) => config.replace(/ {2}- name: other\n(?: {4}.*\n)+/, ''))
    try {
      const reached = https.received.length
      tunnel.send(innerGet('/other/after-removal'))
      await tunnel.closed()
      assert.equal(https.received.length, reached, 'nothing reached the upstream after the removal')

      // What a fresh CONNECT with the same token gets.
      await assert.rejects(
        tunnelVia(tg.proxyPort, auth('other', token)),
        /407[\s\S]*TOLLGATE_AUTH_INVALID/,
      )
    } finally {
      await restore()
    }
  })
})
