import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeLlm, type FakeLlm } from '../../helpers/fake-llm.js'
import { headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
import type { AuditEvent } from '../../../src/audit/event.js'
import { settledEvents } from './settled-audit.js'
import { AGENT, KEYS, llmTestConfig } from './llm-config.js'

const BODY = JSON.stringify({ model: 'gpt-fake-1', messages: [{ role: 'user', content: 'hi' }] })

/**
 * SDKs normalise paths before sending, so the spellings that try to leave a route are sent raw.
 * A route's upstream base path is a boundary: nothing the agent writes may climb out of it,
 * reach the other provider's route or name another host.
 */
describe('reverse routes: paths that try to escape the route', () => {
  let openai: FakeLlm
  let anthropic: FakeLlm
  let tg: Harness
  let token: string

  before(async () => {
    openai = await startFakeLlm({ key: KEYS['openai-secret'] })
    anthropic = await startFakeLlm({ key: KEYS['anthropic-secret'] })
    tg = await startTollgate(llmTestConfig({ openai: openai.port, anthropic: anthropic.port }))
    for (const [name, value] of Object.entries(KEYS)) tg.setSecret(name, value)
    token = tg.issueToken(AGENT).token
  })

  after(async () => {
    await tg.stop()
    await openai.close()
    await anthropic.close()
  })

  const post = (target: string) =>
    rawRequest(
      tg.reversePort,
      `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${tg.reversePort}\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n${BODY}`,
    )
  const upstreamCount = () => openai.received.length + anthropic.received.length

  const escapes = [
    '/openai/../x',
    '/openai/%2e%2e/x',
    '/openai/%2E%2E/%2e%2e/x',
    '/openai/chat/../../../x',
    '/openai/..%2fx',
    '/openai/chat%2f..%2f..%2fx',
    '/openai/%252e%252e/x',
    '/openai//chat/completions',
    '/openai/chat;x=1/completions',
    '/anthropic/../openai/chat/completions',
  ]
  for (const target of escapes) {
    test(`${target} is refused with 400 and reaches no upstream`, async () => {
      const before = upstreamCount()
      const response = await post(target)
      assert.equal(statusOf(response), 400, response)
      assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_BAD_PATH')
      assert.match(response, /"code":"TOLLGATE_BAD_PATH"/)
      assert.equal(upstreamCount(), before)
    })
  }

  test('a backslash in the path is refused with 400', async () => {
    const response = await post('/openai/..\\x')
    assert.equal(statusOf(response), 400, response)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_BAD_PATH')
    assert.equal(upstreamCount(), 0)
  })

  test('dot segments that stay inside the route are resolved before deciding', async () => {
    const response = await post('/openai/models/../chat/./completions')
    assert.equal(statusOf(response), 200, response)
    assert.equal(openai.received.at(-1)?.url, '/v1/chat/completions', 'what was decided is sent')
    assert.equal(openai.received.at(-1)?.authorised, true)
  })

  test('an absolute-form target is not a route: the reverse listener is no forward proxy', async () => {
    const before = upstreamCount()
    const response = await post(`http://127.0.0.1:${openai.port}/v1/chat/completions`)
    assert.equal(statusOf(response), 404, response)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_UNKNOWN_ROUTE')
    assert.equal(upstreamCount(), before)
  })

  test('an unknown route is 404 with a stable code', async () => {
    const response = await post('/nope/chat/completions')
    assert.equal(statusOf(response), 404)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_UNKNOWN_ROUTE')
  })

  test('refused paths are recorded with the agent and the code', async () => {
    const isBadPath = (e: AuditEvent) =>
      e.type === 'request.rejected' && e.code === 'TOLLGATE_BAD_PATH'
    // Every escape above, and the backslash.
    const expected = escapes.length + 1
    const events = await settledEvents(
      tg,
      'the rejected paths',
      (all) => all.filter(isBadPath).length >= expected,
    )
    const rejected = events.filter(isBadPath)
    assert.equal(rejected.length, expected)
    for (const event of rejected) {
      assert.equal(event.agent, AGENT)
      assert.equal(event.decision, 'malformed')
      assert.equal(event.credentials, null)
    }
  })
})
