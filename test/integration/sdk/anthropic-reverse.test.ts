import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import {
  REPLY_TEXT,
  StreamGate,
  USAGE,
  startFakeLlm,
  type FakeLlm,
} from '../../helpers/fake-llm.js'
import { headerOf, rawRequest, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
import { relayRefusal } from './sdk-error.js'
import { completedBy, settledEvents } from './settled-audit.js'
import { AGENT, KEYS, OWNER, llmTestConfig } from './llm-config.js'

const MODEL = 'claude-fake-1'
const WRONG_TOKEN = 'tgt_' + 'C'.repeat(43)
const REQUEST = {
  model: MODEL,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'Say hello.' }],
}

describe('reverse route with the real Anthropic SDK', () => {
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

  // Retries would hide what the relay answered and send refused requests again.
  const client = (apiKey = token) =>
    new Anthropic({
      apiKey,
      baseURL: `http://127.0.0.1:${tg.reversePort}/anthropic`,
      maxRetries: 0,
    })

  test('a message goes through with the real key in x-api-key and no token', async () => {
    const before = anthropic.received.length
    const message = await client().messages.create(REQUEST)

    const first = message.content[0]
    assert.equal(first?.type === 'text' ? first.text : null, REPLY_TEXT)
    assert.equal(message.usage.output_tokens, USAGE.output)
    assert.equal(anthropic.received.length, before + 1)
    const seen = anthropic.received.at(-1)
    assert.equal(seen?.url, '/v1/messages')
    assert.equal(seen?.headers['x-api-key'], KEYS['anthropic-secret'])
    // SDK 1.x sends its key as a Bearer token: on a reverse route that header is the agent's.
    assert.equal(seen?.headers.authorization, undefined, 'the agent token header is dropped')
    assert.equal(seen?.authorised, true)
    assert.ok(!JSON.stringify(seen).includes(token), 'the Tollgate token is not forwarded')
    assert.ok(seen?.headers['anthropic-version'], 'provider headers pass through')
    assert.equal(openai.received.length, 0, 'the other provider saw nothing')
  })

  test('a stream arrives event by event, the first before the upstream has finished', async () => {
    const gate = new StreamGate()
    anthropic.gate = gate
    const finishedBefore = anthropic.streamsFinished
    const stream = await client().messages.create({ ...REQUEST, stream: true })

    const types: string[] = []
    let text = ''
    let outputTokens: number | null = null
    for await (const event of stream) {
      if (!gate.isOpen) {
        // The upstream is parked after its first event until this line opens the gate.
        assert.equal(anthropic.streamsFinished, finishedBefore, 'first event before the end')
        gate.open()
      }
      types.push(event.type)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        text += event.delta.text
      }
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens
    }

    assert.equal(types[0], 'message_start')
    assert.equal(types.at(-1), 'message_stop')
    assert.equal(text, REPLY_TEXT)
    assert.equal(outputTokens, USAGE.output, 'usage arrives in message_delta')
    assert.equal(anthropic.streamsFinished, finishedBefore + 1)
  })

  test('the SDK stream helper assembles the final message through the relay', async () => {
    const final = await client().messages.stream(REQUEST).finalMessage()
    const first = final.content[0]
    assert.equal(first?.type === 'text' ? first.text : null, REPLY_TEXT)
    assert.equal(final.usage.input_tokens, USAGE.input)
    assert.equal(final.usage.output_tokens, USAGE.output)
  })

  test('a wrong token is refused with 401 on the wire and the upstream sees nothing', async () => {
    const before = anthropic.received.length
    const response = await rawRequest(
      tg.reversePort,
      'POST /anthropic/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `x-api-key: ${WRONG_TOKEN}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 2\r\nConnection: close\r\n\r\n{}',
    )

    assert.equal(statusOf(response), 401)
    assert.match(headerOf(response, 'www-authenticate') ?? '', /Bearer/)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_AUTH_INVALID')
    assert.equal(anthropic.received.length, before)
  })

  test('with a wrong token the SDK call fails and the upstream sees nothing', async () => {
    const before = anthropic.received.length
    const error = await client(WRONG_TOKEN)
      .messages.create(REQUEST)
      .then(refused, (caught: unknown) => caught)

    assert.ok(error instanceof Anthropic.APIError, String(error))
    assert.equal(anthropic.received.length, before)
  })

  test('an endpoint the policy does not allow is refused with 403', async () => {
    const before = anthropic.received.length
    const error = await client()
      .messages.countTokens(REQUEST)
      .then(refused, (caught: unknown) => caught)

    assert.ok(error instanceof Anthropic.APIError, String(error))
    assert.deepEqual(relayRefusal(error), {
      status: 403,
      header: 'TOLLGATE_POLICY_NO_MATCH',
      code: 'TOLLGATE_POLICY_NO_MATCH',
    })
    assert.equal(anthropic.received.length, before)
  })

  test('the audit trail names agent, owner, rule and credential, never the key', async () => {
    const events = await settledEvents(
      tg,
      'the three messages and the denial',
      (all) =>
        completedBy(all, 'llm/anthropic-messages').length >= 3 &&
        all.some((e) => e.code === 'TOLLGATE_POLICY_NO_MATCH'),
    )
    const completed = completedBy(events, 'llm/anthropic-messages')
    assert.equal(completed.length, 3, 'the message and the two streams')
    for (const event of completed) {
      assert.equal(event.agent, AGENT)
      assert.equal(event.owner, OWNER)
      assert.equal(event.path, '/v1/messages')
      assert.equal(event.port, anthropic.port)
      assert.deepEqual(event.credentials, ['anthropic-key'])
      assert.equal(event.status, 200)
    }

    const denied = events.find((e) => e.code === 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(denied?.path, '/v1/messages/count_tokens')
    assert.equal(denied?.agent, AGENT)
    assert.equal(denied?.credentials, null, 'nothing injected on a denial')

    const trail = tg.auditLines().join('\n')
    assert.ok(!trail.includes(KEYS['anthropic-secret']), 'no key in the trail')
    assert.ok(!trail.includes(token), 'no token in the trail')
  })
})

function refused(): never {
  assert.fail('the request should have been refused')
}
