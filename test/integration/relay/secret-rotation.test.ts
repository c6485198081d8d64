import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { curl } from '../../helpers/curl.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { loadMasterKey } from '../../../src/secrets/master-key.js'
import { SecretStore } from '../../../src/secrets/secret-store.js'
import { SecretValue } from '../../../src/secrets/secret-value.js'
import type { Database } from '../../../src/store/database.js'
import { openStateDatabase } from '../../../src/store/state-dir.js'
import { signalStateChange } from '../../../src/store/state-signal.js'

const OLD_VALUE = 'rotation-OLD-value-1111'
const NEW_VALUE = 'rotation-NEW-value-2222'

function rotationConfig(port: number): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
policies:
  - name: main
    rules:
      - name: header
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${port}]
        paths: ["/header/**"]
        credential: api-key
        allowPlaintextCredential: true
credentials:
  - name: api-key
    secret: api-secret
    hosts: ["127.0.0.1"]
    header: { name: X-Api-Key, format: "{secret}" }
`
}

describe('a secret rotated by another process is used by the running relay', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let cliDb: Database
  let proxy: string

  before(async () => {
    upstream = await startEchoUpstream()
    tg = await startTollgate(rotationConfig(upstream.port))
    // What `tollgate secret set` does: its own connection, its own store, the same key.
    cliDb = openStateDatabase(tg.stateDir)
    const cli = new SecretStore(cliDb, loadMasterKey({ stateDir: tg.stateDir, env: {} }))
    cli.set('api-secret', new SecretValue(OLD_VALUE))
    proxy = tg.proxyUrl('bot', tg.issueToken('bot').token)
  })

  after(async () => {
    cliDb.close()
    await tg.stop()
    await upstream.close()
  })

  /** The X-Api-Key the upstream received for one request through the relay. */
  async function injectedValue(): Promise<unknown> {
    const res = await curl(['-x', proxy, `http://127.0.0.1:${upstream.port}/header/x`])
    assert.equal(res.status, 200, res.body)
    return upstream.received.at(-1)?.headers['x-api-key']
  }

  test('the old value is injected, then the new one once the change is signalled', async () => {
    assert.equal(await injectedValue(), OLD_VALUE)
    // Twice: the second request is served from the relay's secret cache.
    assert.equal(await injectedValue(), OLD_VALUE)

    const cli = new SecretStore(cliDb, loadMasterKey({ stateDir: tg.stateDir, env: {} }))
    assert.deepEqual(cli.set('api-secret', new SecretValue(NEW_VALUE)), {
      version: 2,
      created: false,
    })
    signalStateChange(tg.stateDir)

    // Requests go out one at a time: the check starts the next one only when the last is
    // done, stops starting them once the new value is seen, and rethrows a failed one so the
    // wait ends with its real cause.
    let seen: unknown = OLD_VALUE
    let failure: Error | null = null
    let inFlight = false
    await waitFor(() => {
      if (failure) throw failure
      if (seen === NEW_VALUE) return true
      if (!inFlight) {
        inFlight = true
        injectedValue().then(
          (value) => {
            seen = value
            inFlight = false
          },
          (error: unknown) => {
            failure = error instanceof Error ? error : new Error(String(error))
          },
        )
      }
      return false
    }, 'a request carrying the rotated value')

    // Once rotated, the old value is never injected again.
    assert.equal(await injectedValue(), NEW_VALUE)
    assert.ok(tg.logs.length > 0, 'the relay logged the requests')
    assert.ok(
      !tg.logs.some((line) => line.includes(OLD_VALUE) || line.includes(NEW_VALUE)),
      'neither value reaches the relay log',
    )
  })
})
