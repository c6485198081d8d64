import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { EchoRecord } from '../helpers/echo-upstream.js'
import { waitFor } from '../helpers/tollgate-harness.js'
import { checkOutcome, leakedSecrets, type SeenRefusal } from './case-checks.js'
import { runCase, type RunTarget } from './case-runner.js'
import type { CorpusCase } from './corpus/case.js'
import { CORPUS } from './corpus/index.js'
import { startAdversarialFixture, type AdversarialFixture } from './fixture.js'

/** Far above any honest answer on loopback; only a relay that hangs gets near it. */
const CASE_DEADLINE_MS = 8000

/**
 * Issue #3's adversarial suite: every crafted request of `corpus/` against one real relay, each
 * on its own connection. For every case: the expected refusal or the exact upstream request,
 * nothing more on the connection, no sentinel reached, no form of a secret in any byte sent
 * back. After all of them: the relay still serves, and every refusal is in the audit trail.
 */
describe('adversarial corpus', () => {
  let fx: AdversarialFixture
  let target: RunTarget
  const refusals: SeenRefusal[] = []

  before(async () => {
    fx = await startAdversarialFixture()
    target = {
      proxyPort: fx.tg.proxyPort,
      reversePort: fx.tg.reversePort,
      caPem: fx.tg.caPem,
      vars: fx.vars,
      probe: probeRequest,
    }
  })

  after(() => fx.stop())

  test('the corpus is broad: at least 300 cases with unique ids', () => {
    const ids = new Set(CORPUS.map((c) => c.id))
    assert.equal(ids.size, CORPUS.length, 'case ids are unique')
    assert.ok(CORPUS.length >= 300, `${CORPUS.length} cases`)
  })

  CORPUS.forEach((corpusCase, index) => {
    const options = corpusCase.knownGap ? { todo: corpusCase.knownGap } : {}
    test(`${corpusCase.id}: ${corpusCase.rule}`, options, async () => {
      const seen = await runOne(fx, target, corpusCase, index)
      refusals.push(...seen)
    })
  })

  test('no sentinel was reached by any case', () => {
    for (const sentinel of fx.sentinels) assert.equal(sentinel.hits, 0, sentinel.where)
  })

  test('afterwards the relay still answers /healthz and an allowed request', async () => {
    const health = await fetch(`http://127.0.0.1:${fx.tg.controlPort}/healthz`)
    assert.equal(health.status, 200)

    const allowed = CORPUS.find((c) => c.id === 'host-identity/baseline')
    assert.ok(allowed)
    await runOne(fx, target, allowed, CORPUS.length)
  })

  test('every refusal is in the audit trail with its request id and code', async () => {
    assert.ok(refusals.length > 200, `${refusals.length} refusals seen`)
    // A refusal after the request went upstream (a placeholder caught in the body) is the
    // code of its completion event; its decision event came first, with no code.
    const missing = () => {
      const recorded = new Set(fx.tg.auditEvents().map((e) => `${e.request_id} ${e.code}`))
      return refusals.filter((r) => !recorded.has(`${r.requestId} ${r.code}`))
    }
    await waitFor(() => missing().length === 0, 'an audit event for every refusal', 10_000).catch(
      () => assert.deepEqual(missing(), [], 'refusals without a matching audit event'),
    )
  })

  test('no secret reached the relay log or the audit trail', () => {
    const secrets = Object.values(fx.secrets)
    const logs = Buffer.from(fx.tg.logs.join('\n'))
    const audit = Buffer.from(fx.tg.auditLines().join('\n'))
    assert.deepEqual(leakedSecrets(logs, secrets), [], 'the log')
    assert.deepEqual(leakedSecrets(audit, secrets), [], 'the audit trail')
  })

  // Last: it stops the relay. A graceful stop waits for every upstream request to end, so one
  // left open (a body the agent cut off while its decision was being recorded) holds it up.
  test('the relay then stops gracefully: no request is left hanging upstream', async () => {
    const stopped = await Promise.race([
      fx.stopRelay().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), CASE_DEADLINE_MS).unref()),
    ])
    assert.ok(stopped, 'the relay stopped')
  })
})

/** The probe: an allowed request that names the case, so its answer is recognisable. */
function probeRequest(kind: 'forward' | 'reverse' | 'tunnel', marker: string): string {
  if (kind === 'reverse') {
    return `GET /echo/${marker} HTTP/1.1\r\nHost: relay.test\r\nAuthorization: {bearer}\r\n\r\n`
  }
  if (kind === 'tunnel') return `GET /allowed/${marker} HTTP/1.1\r\nHost: {secure}\r\n\r\n`
  return `GET http://{target}/allowed/${marker} HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: {auth}\r\n\r\n`
}

/** Runs one case and checks everything that must hold for it; returns its refusals. */
async function runOne(
  fx: AdversarialFixture,
  target: RunTarget,
  corpusCase: CorpusCase,
  index: number,
): Promise<SeenRefusal[]> {
  const marker = `probe-${index}`
  const mark = { echo: fx.echo.received.length, tls: fx.tlsEcho.received.length }
  const hits = sentinelHits(fx)

  const run = await runCase(target, corpusCase, marker, CASE_DEADLINE_MS)
  const shown = run.raw.toString('latin1').slice(0, 400)
  assert.equal(run.failure, null, `the exchange failed: ${run.failure ?? ''}\n${shown}`)
  assert.equal(run.responses.length, corpusCase.expect.length, `responses:\n${shown}`)

  const upstream = upstreamSince(fx, mark, marker)
  const seen: SeenRefusal[] = []
  const context = {
    caseId: corpusCase.id,
    reverse: corpusCase.listener === 'reverse',
    vars: fx.vars,
  }
  corpusCase.expect.forEach((outcome, i) => {
    const response = run.responses[i]
    assert.ok(response)
    const refusal = checkOutcome(response, outcome, upstream, context)
    if (refusal) seen.push(refusal)
  })

  assert.deepEqual(
    upstream.map((r) => `${r.method} ${r.url}`),
    [],
    'nothing else reached an upstream',
  )
  if (run.probe) {
    assert.equal(run.probe.status, 200, 'the probe after the case was answered')
    assert.ok(run.probe.body.includes(marker), "the next response was the probe's own")
  }
  assert.equal(sentinelHits(fx), hits, 'no sentinel was reached')
  assert.deepEqual(leakedSecrets(run.raw, Object.values(fx.secrets)), [], 'no secret came back')
  return seen
}

function sentinelHits(fx: AdversarialFixture): number {
  return fx.sentinels.reduce((sum, s) => sum + s.hits, 0)
}

/** What reached either echo upstream since `mark`, the probe's own request left out. */
function upstreamSince(
  fx: AdversarialFixture,
  mark: { echo: number; tls: number },
  marker: string,
): EchoRecord[] {
  const all = [...fx.echo.received.slice(mark.echo), ...fx.tlsEcho.received.slice(mark.tls)]
  return all.filter((record) => record.url !== `/allowed/${marker}`)
}
