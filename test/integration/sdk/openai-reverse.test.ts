import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
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

const MODEL = 'gpt-fake-1'
const WRONG_TOKEN = 'tgt_' + 'B'.repeat(43)
const MESSAGES = [{ role: 'user' as const, content: 'Say hello.' }]

describe('reverse route with the real OpenAI SDK', () => {
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
    new OpenAI({
      apiKey,
      baseURL: `http://127.0.0.1:${tg.reversePort}/openai`,
      maxRetries: 0,
    })

  test('a completion goes through with the real key; the upstream never sees the token', async () => {
    const before = openai.received.length
    const completion = await client().chat.completions.create({ model: MODEL, messages: MESSAGES })

    assert.equal(completion.choices[0]?.message.content, REPLY_TEXT)
    assert.equal(completion.usage?.total_tokens, USAGE.input + USAGE.output)
    assert.equal(openai.received.length, before + 1)
    const seen = openai.received.at(-1)
    assert.equal(seen?.url, '/v1/chat/completions')
    assert.equal(seen?.headers.authorization, `Bearer ${KEYS['openai-secret']}`)
    assert.equal(seen?.authorised, true)
    assert.ok(!JSON.stringify(seen).includes(token), 'the Tollgate token is not forwarded')
    assert.equal(JSON.parse(seen?.body ?? '{}').model, MODEL, 'the body is forwarded intact')
  })

  test('a stream arrives chunk by chunk, the first before the upstream has finished', async () => {
    const gate = new StreamGate()
    openai.gate = gate
    const finishedBefore = openai.streamsFinished
    const stream = await client().chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    })

    let text = ''
    let usage: OpenAI.CompletionUsage | null | undefined = null
    for await (const chunk of stream) {
      if (!gate.isOpen) {
        // The upstream is parked after its first event until this line opens the gate.
        assert.equal(openai.streamsFinished, finishedBefore, 'first chunk before the end')
        gate.open()
      }
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }

    assert.ok(gate.isOpen)
    assert.equal(text, REPLY_TEXT)
    assert.equal(usage?.prompt_tokens, USAGE.input, 'usage arrives in the final chunk')
    assert.equal(usage?.completion_tokens, USAGE.output)
    assert.equal(openai.streamsFinished, finishedBefore + 1)
    assert.equal(openai.received.at(-1)?.authorised, true)
  })

  test('a wrong token is refused with 401 on the wire and the upstream sees nothing', async () => {
    const before = openai.received.length
    const response = await rawRequest(
      tg.reversePort,
      'POST /openai/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Authorization: Bearer ${WRONG_TOKEN}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 2\r\nConnection: close\r\n\r\n{}',
    )

    assert.equal(statusOf(response), 401)
    assert.match(headerOf(response, 'www-authenticate') ?? '', /Bearer/)
    assert.equal(headerOf(response, 'tollgate-error'), 'TOLLGATE_AUTH_INVALID')
    assert.match(response, /"code":"TOLLGATE_AUTH_INVALID"/)
    assert.equal(openai.received.length, before)
  })

  test('with a wrong token the SDK call fails and the upstream sees nothing', async () => {
    const before = openai.received.length
    const error = await refusal(client(WRONG_TOKEN))

    assert.ok(error instanceof OpenAI.APIError, String(error))
    assert.equal(openai.received.length, before)
  })

  test('with a wrong token the SDK error carries the status and the relay code', async () => {
    const error = await refusal(client(WRONG_TOKEN))
    assert.ok(error instanceof OpenAI.APIError, String(error))
    assert.deepEqual(relayRefusal(error), {
      status: 401,
      header: 'TOLLGATE_AUTH_INVALID',
      code: 'TOLLGATE_AUTH_INVALID',
    })
  })

  test('a POST to an endpoint the policy does not allow is refused with 403', async () => {
    const before = openai.received.length
    const error = await client()
      .embeddings.create({ model: 'embed-fake-1', input: 'hello' })
      .then(refused, (caught: unknown) => caught)

    assert.ok(error instanceof OpenAI.APIError, String(error))
    assert.deepEqual(relayRefusal(error), {
      status: 403,
      header: 'TOLLGATE_POLICY_NO_MATCH',
      code: 'TOLLGATE_POLICY_NO_MATCH',
    })
    assert.equal(openai.received.length, before)
  })

  test('the audit trail names agent, owner, rule and credential, never the key', async () => {
    const events = await settledEvents(
      tg,
      'the completions, the failed auth and the denial',
      (all) =>
        completedBy(all, 'llm/openai-chat').length >= 2 &&
        all.some((e) => e.type === 'auth.failed') &&
        all.some((e) => e.code === 'TOLLGATE_POLICY_NO_MATCH'),
    )
    const completed = completedBy(events, 'llm/openai-chat')
    assert.equal(completed.length, 2, 'the completion and the stream')
    for (const event of completed) {
      assert.equal(event.agent, AGENT)
      assert.equal(event.owner, OWNER)
      assert.equal(event.team, 'research')
      assert.equal(event.path, '/v1/chat/completions')
      assert.equal(event.port, openai.port)
      assert.deepEqual(event.credentials, ['openai-key'])
      assert.equal(event.status, 200)
    }

    const decided = events.find((e) => e.request_id === completed[0]?.request_id)
    assert.equal(decided?.type, 'request.decided', 'the decision is recorded first')
    assert.equal(decided?.decision, 'allow')
    const failed = events.find((e) => e.type === 'auth.failed')
    assert.equal(failed?.code, 'TOLLGATE_AUTH_INVALID')
    const denied = events.find((e) => e.code === 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(denied?.agent, AGENT)
    assert.equal(denied?.path, '/v1/embeddings')
    assert.equal(denied?.decision, 'deny')

    const trail = tg.auditLines().join('\n')
    assert.ok(!trail.includes(KEYS['openai-secret']), 'no key in the trail')
    assert.ok(!trail.includes(token), 'no token in the trail')
  })
})

/** A client call that should have been refused; resolves to what it threw. */
function refusal(client: OpenAI): Promise<unknown> {
  return client.chat.completions
    .create({ model: MODEL, messages: MESSAGES })
    .then(refused, (caught: unknown) => caught)
}

function refused(): never {
  assert.fail('the request should have been refused')
}
