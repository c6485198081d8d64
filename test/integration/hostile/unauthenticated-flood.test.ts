import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { AuditEvent } from '../../../src/audit/event.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { parseLogLine } from '../../helpers/cli.js'
import { basicAuth, headerOf, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { metricValue, openClient, type SocketClient } from '../relay/socket-client.js'

/**
 * A hostile local process that reconnects in a loop without a valid token must not be able to
 * write audit events and log lines as fast as it likes. Past `events` refusals per source and
 * code in an interval, each is still answered with its JSON error and counted, and one
 * `refusals.suppressed` summary stands for the rest.
 */

const POLICY = (port: number) => `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
  - { name: other, owner: alice@example.com, team: platform, policies: [open] }
policies:
  - name: open
    rules:
      - name: all
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${port}]
`

// Text the flood sends, which must reach no summary.
const MARKER = 'FLOOD-MARKER-7d1c'

interface Answer {
  status: number
  code: string | null
  requestId: string
  /** The JSON body's own code and request id agree with the headers. */
  bodyAgrees: boolean
}

/** Opens one connection per request from `from`, then writes them all at once. */
async function burst(port: number, from: string, requests: string[]): Promise<SocketClient[]> {
  const clients = await Promise.all(requests.map(() => openClient(port, from)))
  clients.forEach((client, i) => client.socket.write(requests[i] ?? ''))
  await waitFor(() => clients.every((c) => c.isClosed()), 'every refusal answered', 15_000)
  return clients
}

function answerOf(client: SocketClient): Answer {
  const text = client.received()
  const requestId = headerOf(text, 'tollgate-request-id') ?? ''
  const code = headerOf(text, 'tollgate-error')
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string }
    request_id: string
  }
  const bodyAgrees = body.error.code === code && body.request_id === requestId
  return { status: statusOf(text), code, requestId, bodyAgrees }
}

function unauthenticatedGet(port: number, i: number): string {
  const target = `127.0.0.1:${port}`
  return (
    `GET http://${target}/${MARKER}/${i} HTTP/1.1\r\nHost: ${target}\r\n` +
    `User-Agent: ${MARKER}\r\n\r\n`
  )
}

function summariesFor(tg: Harness, client: string): AuditEvent[] {
  return tg.auditEvents().filter((e) => e.type === 'refusals.suppressed' && e.client === client)
}

async function summaryFor(tg: Harness, client: string): Promise<AuditEvent> {
  await waitFor(() => summariesFor(tg, client).length > 0, `the summary for ${client}`, 15_000)
  const [summary, ...more] = summariesFor(tg, client)
  assert.ok(summary)
  assert.deepEqual(more, [], 'one summary per source and code')
  return summary
}

function eventsOf(tg: Harness, ids: ReadonlySet<string>): AuditEvent[] {
  return tg.auditEvents().filter((e) => e.request_id !== null && ids.has(e.request_id))
}

function logLines(tg: Harness): Array<Record<string, unknown>> {
  return tg.logs.map(parseLogLine).filter((line) => line !== null)
}

describe('a flood of refusals that name no agent is bounded in the trail and the log', () => {
  let upstream: EchoUpstream
  let tg: Harness
  let token: string

  before(async () => {
    upstream = await startEchoUpstream()
    // The interval is long enough that every burst below lands inside one.
    tg = await startTollgate(
      POLICY(upstream.port),
      {},
      '  limits: { unauthenticatedAudit: { events: 5, interval: 1s } }\n',
    )
    token = tg.issueToken('bot').token
  })

  after(async () => {
    await tg.stop()
    await upstream.close()
  })

  test('50 requests without a token: 50 answers, 5 events, one summary of 45', async () => {
    const target = `127.0.0.1:${upstream.port}`
    const requests = Array.from({ length: 50 }, (_, i) => unauthenticatedGet(upstream.port, i))
    // An agent's request in the middle of the flood, from the same address.
    const agent =
      `GET http://${target}/ok HTTP/1.1\r\nHost: ${target}\r\n` +
      `Proxy-Authorization: ${basicAuth('bot', token)}\r\nConnection: close\r\n\r\n`
    requests.splice(25, 0, agent)

    const clients = await burst(tg.proxyPort, '127.0.0.1', requests)
    const [served] = clients.splice(25, 1)
    assert.equal(statusOf(served?.received() ?? ''), 200)
    const answers = clients.map(answerOf)
    assert.equal(answers.length, 50)
    for (const answer of answers) {
      assert.equal(answer.status, 407)
      assert.equal(answer.code, 'TOLLGATE_AUTH_REQUIRED')
      assert.ok(answer.bodyAgrees, 'the JSON error carries the same code and request id')
    }
    const ids = new Set(answers.map((a) => a.requestId))
    assert.equal(ids.size, 50, 'each refusal has its own request id')

    const summary = await summaryFor(tg, '127.0.0.1')
    const recorded = eventsOf(tg, ids)
    assert.equal(recorded.length, 5)
    for (const event of recorded) {
      assert.equal(event.type, 'auth.failed')
      assert.equal(event.agent, null)
      assert.equal(event.code, 'TOLLGATE_AUTH_REQUIRED')
    }

    const left = new Set([...ids].filter((id) => !recorded.some((e) => e.request_id === id)))
    assert.equal(summary.agent, null)
    assert.equal(summary.request_id, null)
    assert.equal(summary.decision, 'unauthenticated')
    assert.equal(summary.code, 'TOLLGATE_AUTH_REQUIRED')
    const detail = summary.detail ?? {}
    assert.equal(detail['count'], 45)
    assert.deepEqual(detail['codes'], { TOLLGATE_AUTH_REQUIRED: 45 })
    assert.equal(detail['recorded'], 5)
    assert.equal(detail['overflow'], false)
    assert.ok(left.has(String(detail['first_request_id'])), 'the first id left out')
    assert.ok(left.has(String(detail['last_request_id'])), 'the last id left out')
    assert.notEqual(detail['first_request_id'], detail['last_request_id'])
    assert.ok(String(detail['first_time']) <= String(detail['last_time']))
    const line = tg.auditLines().find((l) => l.includes('"refusals.suppressed"')) ?? ''
    assert.ok(!line.includes(MARKER), 'nothing the flood sent is in its summary')
  })

  test('the agent in the middle of the flood is recorded as ever', () => {
    const mine = tg.auditEvents().filter((e) => e.agent === 'bot' && e.path === '/ok')
    assert.deepEqual(
      mine.map((e) => e.type),
      ['request.decided', 'request.completed'],
    )
  })

  test('the log has 5 decision lines and one warn line for the rest', async () => {
    const lines = logLines(tg)
    const decisions = lines.filter(
      (l) => l['event'] === 'request' && l['code'] === 'TOLLGATE_AUTH_REQUIRED',
    )
    assert.equal(decisions.length, 5)
    const summaries = lines.filter((l) => l['event'] === 'refusals.suppressed')
    assert.equal(summaries.length, 1)
    assert.equal(summaries[0]?.['level'], 40)
    assert.equal(summaries[0]?.['count'], 45)
    assert.equal(summaries[0]?.['client'], '127.0.0.1')
    assert.ok(!tg.logs.some((l) => l.includes(MARKER)), 'nothing the flood sent is logged')

    // The metrics still count every one of them.
    const sample = 'tollgate_requests_total{decision="unauthenticated",listener="forward"}'
    assert.equal(await metricValue(tg.controlPort, sample), 50)
    const left = 'tollgate_audit_refusals_suppressed_total{code="TOLLGATE_AUTH_REQUIRED"}'
    assert.equal(await metricValue(tg.controlPort, left), 45)
  })

  test('CONNECTs refused before identification are bounded the same way', async () => {
    const target = `127.0.0.1:${upstream.port}`
    const connect = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`
    const sample = 'tollgate_requests_total{decision="unauthenticated",listener="forward"}'
    const counted = await metricValue(tg.controlPort, sample)
    const clients = await burst(tg.proxyPort, '127.0.0.2', Array(8).fill(connect) as string[])
    const answers = clients.map(answerOf)
    assert.ok(answers.every((a) => a.status === 407 && a.bodyAgrees))
    assert.equal(await metricValue(tg.controlPort, sample), counted + 8, 'every one is counted')

    const summary = await summaryFor(tg, '127.0.0.2')
    const recorded = eventsOf(tg, new Set(answers.map((a) => a.requestId)))
    assert.equal(recorded.length, 5)
    assert.ok(recorded.every((e) => e.method === 'CONNECT' && e.type === 'auth.failed'))
    assert.equal(summary.detail?.['count'], 3)
  })

  test('requests the parser refuses are bounded the same way', async () => {
    const target = `127.0.0.1:${upstream.port}`
    const smuggle =
      `POST http://${target}/x HTTP/1.1\r\nHost: ${target}\r\n` +
      'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
    const sample = 'tollgate_requests_total{decision="malformed",listener="forward"}'
    const counted = await metricValue(tg.controlPort, sample)
    const clients = await burst(tg.proxyPort, '127.0.0.3', Array(8).fill(smuggle) as string[])
    const answers = clients.map(answerOf)
    assert.ok(answers.every((a) => a.code === 'TOLLGATE_MALFORMED_REQUEST' && a.bodyAgrees))
    assert.equal(await metricValue(tg.controlPort, sample), counted + 8, 'every one is counted')

    const summary = await summaryFor(tg, '127.0.0.3')
    const recorded = eventsOf(tg, new Set(answers.map((a) => a.requestId)))
    assert.equal(recorded.length, 5)
    assert.ok(recorded.every((e) => e.type === 'request.rejected'))
    assert.equal(summary.decision, 'malformed')
    assert.deepEqual(summary.detail?.['codes'], { TOLLGATE_MALFORMED_REQUEST: 3 })
  })

  test("a valid token under another agent's name is never left out", async () => {
    const target = `127.0.0.1:${upstream.port}`
    const mismatch =
      `GET http://${target}/x HTTP/1.1\r\nHost: ${target}\r\n` +
      `Proxy-Authorization: ${basicAuth('other', token)}\r\n\r\n`
    const clients = await burst(tg.proxyPort, '127.0.0.4', Array(12).fill(mismatch) as string[])
    const answers = clients.map(answerOf)
    assert.ok(answers.every((a) => a.code === 'TOLLGATE_AUTH_AGENT_MISMATCH' && a.bodyAgrees))
    const ids = new Set(answers.map((a) => a.requestId))

    // Refusals from the same source that name nobody end an interval with their summary; by
    // then any summary of the mismatches would be written too.
    await burst(
      tg.proxyPort,
      '127.0.0.4',
      Array.from({ length: 6 }, (_, i) => unauthenticatedGet(upstream.port, i)),
    )
    const summary = await summaryFor(tg, '127.0.0.4')
    assert.deepEqual(summary.detail?.['codes'], { TOLLGATE_AUTH_REQUIRED: 1 })

    await waitFor(() => eventsOf(tg, ids).length === 12, 'an event for every mismatch')
    for (const event of eventsOf(tg, ids)) {
      assert.equal(event.agent, 'bot', "each names the token's own agent")
      assert.equal(event.code, 'TOLLGATE_AUTH_AGENT_MISMATCH')
    }
  })
})

describe('pending summaries are written at a graceful shutdown', () => {
  let upstream: EchoUpstream
  let tg: Harness

  before(async () => {
    upstream = await startEchoUpstream()
    // An interval that does not end during the test: only the shutdown can write the summary.
    tg = await startTollgate(
      POLICY(upstream.port),
      {},
      '  limits: { unauthenticatedAudit: { events: 2, interval: 1h } }\n',
    )
  })

  after(async () => {
    await tg.stop()
    await upstream.close()
  })

  test('the summary is on record before relay.stopped', async () => {
    const requests = Array.from({ length: 6 }, (_, i) => unauthenticatedGet(upstream.port, i))
    const answers = (await burst(tg.proxyPort, '127.0.0.1', requests)).map(answerOf)
    const ids = new Set(answers.map((a) => a.requestId))
    await waitFor(() => eventsOf(tg, ids).length === 2, 'the two events recorded one by one')
    assert.deepEqual(summariesFor(tg, '127.0.0.1'), [])

    await tg.service.stop(1000)
    const events = tg.auditEvents()
    const summary = events.find((e) => e.type === 'refusals.suppressed')
    const stopped = events.find((e) => e.type === 'relay.stopped')
    assert.equal(summary?.detail?.['count'], 4)
    assert.ok(summary && stopped && summary.seq < stopped.seq)
    assert.equal(eventsOf(tg, ids).length, 2, 'and nothing more one by one')
  })
})
