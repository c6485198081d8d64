import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { ProxyAgent, fetch } from 'undici'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  REPLY_TEXT,
  StreamGate,
  USAGE,
  startFakeLlm,
  type FakeLlm,
} from '../../helpers/fake-llm.js'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { completedBy, settledEvents } from './settled-audit.js'
import { AGENT, KEYS, OWNER, llmTestConfig } from './llm-config.js'

const AGENT_COPY = 'sk-agent-held-placeholder'
const BEARER = `Bearer ${KEYS['openai-secret']}`

/**
 * Node clients that know nothing about Tollgate, pointed at it as an HTTPS proxy: each opens a
 * CONNECT tunnel, the relay intercepts TLS with its own CA (the only CA the clients trust, so a
 * success proves interception) and injects the provider key into the request inside.
 */
describe('Node clients through the forward proxy (CONNECT + interception)', () => {
  let echo: EchoUpstream
  let llm: FakeLlm
  let plain: FakeLlm
  let tg: Harness
  let token: string
  const agents: ProxyAgent[] = []

  before(async () => {
    const tls = await createUpstreamTls()
    echo = await startEchoUpstream(tls)
    llm = await startFakeLlm({ key: KEYS['openai-secret'], tls })
    plain = await startFakeLlm({ key: KEYS['anthropic-secret'] })
    const ports = { openai: plain.port, anthropic: plain.port }
    const config = llmTestConfig({ ...ports, tls: { openai: llm.port, echo: echo.port } })
    tg = await startTollgate(config, { 'upstream-ca.pem': tls.caPem })
    for (const [name, value] of Object.entries(KEYS)) tg.setSecret(name, value)
    token = tg.issueToken(AGENT).token
  })

  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()))
    await tg.stop()
    await echo.close()
    await llm.close()
    await plain.close()
  })

  /** Every ProxyAgent is closed in `after`. */
  const track = (agent: ProxyAgent) => {
    agents.push(agent)
    return agent
  }
  /** Sends the token as `Proxy-Authorization`; trusts the relay's CA unless told otherwise. */
  const proxyAgent = (options: Partial<ProxyAgent.Options> = {}) =>
    track(
      new ProxyAgent({
        uri: `http://127.0.0.1:${tg.proxyPort}`,
        token: basicAuth(AGENT, token),
        requestTls: { ca: tg.caPem },
        ...options,
      }),
    )
  const echoUrl = (path: string) => `https://127.0.0.1:${echo.port}${path}`

  test('undici fetch with a token: the upstream gets the real key, the agent a scrubbed echo', async () => {
    const response = await fetch(echoUrl('/api/hello'), {
      dispatcher: proxyAgent(),
      headers: { authorization: `Bearer ${AGENT_COPY}` },
    })
    const body = await response.text()

    assert.equal(response.status, 200)
    const seen = echo.received.at(-1)
    assert.equal(seen?.url, '/api/hello')
    assert.equal(seen?.headers.authorization, BEARER, 'the agent copy was replaced')
    assert.equal(seen?.headers['proxy-authorization'], undefined)
    assert.ok(!body.includes(KEYS['openai-secret']), 'the echoed key is scrubbed')
    assert.ok(!body.includes(AGENT_COPY))
    assert.ok(!(response.headers.get('x-echo-authorization') ?? '').includes(KEYS['openai-secret']))
  })

  test('undici fetch with the credentials in the proxy URI, POSTing a body', async () => {
    const response = await fetch(echoUrl('/api/items'), {
      method: 'POST',
      body: JSON.stringify({ name: 'widget' }),
      headers: { 'content-type': 'application/json' },
      dispatcher: track(
        new ProxyAgent({ uri: tg.proxyUrl(AGENT, token), requestTls: { ca: tg.caPem } }),
      ),
    })
    await response.arrayBuffer()

    assert.equal(response.status, 200)
    const seen = echo.received.at(-1)
    assert.equal(seen?.method, 'POST')
    assert.equal(seen?.body, '{"name":"widget"}')
    assert.equal(seen?.headers.authorization, BEARER)
  })

  test('a client that trusts only the upstream CA is refused: the relay intercepts', async () => {
    const before = echo.received.length
    const tls = await createUpstreamTls()
    const error = await fetch(echoUrl('/api/x'), {
      dispatcher: proxyAgent({ requestTls: { ca: tls.caPem } }),
    }).then(refused, (caught: unknown) => caught)

    assert.match(causeText(error), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|certificate/i)
    assert.equal(echo.received.length, before)
  })

  test('a wrong proxy token fails the CONNECT with 407 and nothing reaches the upstream', async () => {
    const before = echo.received.length
    const error = await fetch(echoUrl('/api/x'), {
      dispatcher: proxyAgent({ token: basicAuth(AGENT, 'tgt_' + 'D'.repeat(43)) }),
    }).then(refused, (caught: unknown) => caught)

    assert.match(causeText(error), /407/)
    assert.equal(echo.received.length, before)
  })

  test('a path the policy does not allow inside the tunnel is 403 with a stable code', async () => {
    const before = echo.received.length
    const response = await fetch(echoUrl('/admin/x'), { dispatcher: proxyAgent() })
    const body = (await response.json()) as { error?: { code?: string } }

    assert.equal(response.status, 403)
    assert.equal(response.headers.get('tollgate-error'), 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(body.error?.code, 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(echo.received.length, before)
  })

  // The SDK calls the global fetch; undici's ProxyAgent is handed to it through fetchOptions.
  const sdk = () =>
    new OpenAI({
      apiKey: AGENT_COPY,
      baseURL: `https://127.0.0.1:${llm.port}/v1`,
      maxRetries: 0,
      fetchOptions: { dispatcher: proxyAgent() } as OpenAI['fetchOptions'],
    })

  test('the OpenAI SDK through CONNECT gets a completion with the injected key', async () => {
    const before = llm.received.length
    const completion = await sdk().chat.completions.create({
      model: 'gpt-fake-1',
      messages: [{ role: 'user', content: 'Say hello.' }],
    })

    assert.equal(completion.choices[0]?.message.content, REPLY_TEXT)
    assert.equal(llm.received.length, before + 1)
    const seen = llm.received.at(-1)
    assert.equal(seen?.headers.authorization, BEARER)
    assert.equal(seen?.authorised, true)
    assert.ok(!JSON.stringify(seen).includes(AGENT_COPY), 'the agent copy never leaves')
    assert.ok(!JSON.stringify(seen).includes(token), 'the proxy token never leaves')
  })

  test('the OpenAI SDK streams through the tunnel, the first chunk before the end', async () => {
    const gate = new StreamGate()
    llm.gate = gate
    const finishedBefore = llm.streamsFinished
    const stream = await sdk().chat.completions.create({
      model: 'gpt-fake-1',
      messages: [{ role: 'user', content: 'Say hello.' }],
      stream: true,
    })

    let text = ''
    let total: number | null = null
    for await (const chunk of stream) {
      if (!gate.isOpen) {
        assert.equal(llm.streamsFinished, finishedBefore, 'first chunk before the end')
        gate.open()
      }
      text += chunk.choices[0]?.delta.content ?? ''
      total = chunk.usage?.total_tokens ?? total
    }

    assert.equal(text, REPLY_TEXT)
    assert.equal(total, USAGE.input + USAGE.output)
    assert.equal(llm.streamsFinished, finishedBefore + 1)
  })

  test('tunnelled requests are recorded with agent, owner, rule and credential', async () => {
    const events = await settledEvents(
      tg,
      'the tunnelled requests',
      (all) =>
        completedBy(all, 'llm/openai-chat-tls').length >= 2 &&
        completedBy(all, 'llm/echo-api').length >= 2,
    )
    const chat = completedBy(events, 'llm/openai-chat-tls')
    assert.equal(chat.length, 2)
    const echoed = completedBy(events, 'llm/echo-api')
    assert.equal(echoed.length, 2)
    for (const event of [...chat, ...echoed]) {
      assert.equal(event.agent, AGENT)
      assert.equal(event.owner, OWNER)
      assert.equal(event.scheme, 'https')
      assert.deepEqual(event.credentials, ['openai-key'])
    }
    const trail = tg.auditLines().join('\n')
    assert.ok(!trail.includes(KEYS['openai-secret']))
  })
})

function refused(): never {
  assert.fail('the request should have been refused')
}

/** The messages of an error and its causes, where undici puts the real reason. */
function causeText(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code
    parts.push(current.message, typeof code === 'string' ? code : '')
    current = current.cause
  }
  return parts.join(' | ')
}
