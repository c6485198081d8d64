import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/** One request as the fake provider received it, whether or not it was authorised. */
export interface LlmRecord {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: string
  authorised: boolean
}

export interface FakeLlmOptions {
  /** The real provider key: every key header the provider receives must carry exactly this. */
  key: string
  /** Serve HTTPS with this certificate instead of plain HTTP. */
  tls?: { cert: string; key: string }
}

export interface FakeLlm {
  port: number
  /** Every request received, in order, including the ones answered with 401. */
  received: LlmRecord[]
  /** How many streamed responses have been written to the end. */
  streamsFinished: number
  /**
   * When set, the next streamed responses stop after their first event until the gate opens,
   * so a test can prove that the first event reached the client before the stream ended.
   */
  gate: StreamGate | null
  close(): Promise<void>
}

/** The words every completion answers with; streamed one per event. */
export const REPLY_PIECES = ['Hello', ' from', ' the', ' fake', ' provider.'] as const
export const REPLY_TEXT = REPLY_PIECES.join('')
/** Usage every response reports: fixed, so tests can assert what was metered. */
export const USAGE = { input: 11, output: REPLY_PIECES.length } as const

/** The longest a held stream waits for its gate; a stuck test fails instead of hanging. */
const GATE_LIMIT_MS = 5000
/** Pause between streamed writes, so they leave as separate TCP segments. */
const WRITE_GAP_MS = 5

/**
 * A promise-backed switch between a test and the fake provider. `wait` resolves true when the
 * gate was opened, false when it gave up after `limitMs`.
 */
export class StreamGate {
  #opened = false
  #waiters: Array<() => void> = []

  get isOpen(): boolean {
    return this.#opened
  }

  open(): void {
    this.#opened = true
    for (const wake of this.#waiters.splice(0)) wake()
  }

  wait(limitMs: number): Promise<boolean> {
    if (this.#opened) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), limitMs)
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }
}

/**
 * A loopback stand-in for an LLM provider. It answers the OpenAI chat completions shape
 * (`POST …/chat/completions`) and the Anthropic messages shape (`POST …/messages`), as JSON or
 * as a real server-sent event stream, and refuses with 401 any request whose key headers do not
 * carry the expected real key: a relay that forwards the agent's Tollgate token, or forgets to
 * inject, is caught here.
 */
export async function startFakeLlm(options: FakeLlmOptions): Promise<FakeLlm> {
  const state: FakeLlm = {
    port: 0,
    received: [],
    streamsFinished: 0,
    gate: null,
    close: () => closeServer(server),
  }
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    respond(state, options.key, req, res).catch(() => res.destroy())
  }
  const server: Server = options.tls
    ? createHttpsServer(options.tls, handler)
    : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.port = (server.address() as AddressInfo).port
  return state
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

async function respond(
  state: FakeLlm,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req)
  const authorised = carriesOnlyKey(req, key)
  state.received.push({
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body,
    authorised,
  })
  if (!authorised) return sendJson(res, 401, providerError('invalid x-api-key'))

  const path = new URL(req.url ?? '/', 'http://fake').pathname
  const request = parseJson(body)
  if (req.method !== 'POST' || !request) return sendJson(res, 400, providerError('bad request'))
  if (path.endsWith('/chat/completions')) return answerOpenAi(state, request, res)
  if (path.endsWith('/messages')) return answerAnthropic(state, request, res)
  sendJson(res, 404, providerError('no such endpoint'))
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Anthropic SDK 1.x sends its key as `Authorization: Bearer`, 0.x and curl users as
 * `x-api-key`. Whichever arrive, each must be the real key, and at least one must be there.
 */
function carriesOnlyKey(req: IncomingMessage, key: string): boolean {
  const presented: string[] = []
  const authorization = req.headers.authorization
  if (authorization !== undefined) presented.push(authorization.replace(/^Bearer\s+/i, ''))
  const apiKey = req.headers['x-api-key']
  if (apiKey !== undefined) presented.push(...(Array.isArray(apiKey) ? apiKey : [apiKey]))
  return presented.length > 0 && presented.every((value) => value === key)
}

interface ChatRequest {
  model?: unknown
  stream?: unknown
}

function parseJson(body: string): ChatRequest | null {
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === 'object' && value !== null ? value : null
  } catch {
    return null
  }
}

function providerError(message: string): object {
  return { type: 'error', error: { type: 'authentication_error', message } }
}

function sendJson(res: ServerResponse, status: number, value: object): void {
  const text = JSON.stringify(value)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

function modelOf(request: ChatRequest): string {
  return typeof request.model === 'string' ? request.model : 'unknown-model'
}

async function answerOpenAi(state: FakeLlm, request: ChatRequest, res: ServerResponse) {
  const model = modelOf(request)
  if (request.stream !== true) return sendJson(res, 200, openAiCompletion(model))
  await streamEvents(state, res, openAiChunks(model))
}

async function answerAnthropic(state: FakeLlm, request: ChatRequest, res: ServerResponse) {
  const model = modelOf(request)
  if (request.stream !== true) return sendJson(res, 200, anthropicMessage(model))
  await streamEvents(state, res, anthropicEvents(model))
}

/**
 * Writes each event separately with a short pause, and, when a gate is set, stops after the
 * first event until the test opens it. The gate is taken for this stream only.
 */
async function streamEvents(state: FakeLlm, res: ServerResponse, events: string[]) {
  const gate = state.gate
  state.gate = null
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  for (const [index, event] of events.entries()) {
    if (res.destroyed) return
    res.write(event)
    if (index === 0 && gate) await gate.wait(GATE_LIMIT_MS)
    else await pause(WRITE_GAP_MS)
  }
  res.end()
  state.streamsFinished++
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// OpenAI chat completions shape.

const OPENAI_ID = 'chatcmpl-fake-0001'
const CREATED = 1_700_000_000

function openAiUsage(): object {
  return {
    prompt_tokens: USAGE.input,
    completion_tokens: USAGE.output,
    total_tokens: USAGE.input + USAGE.output,
  }
}

function openAiCompletion(model: string): object {
  return {
    id: OPENAI_ID,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: REPLY_TEXT, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: openAiUsage(),
  }
}

/** Role first, one content delta per piece, the finish reason, the usage chunk, `[DONE]`. */
function openAiChunks(model: string): string[] {
  const head = { id: OPENAI_ID, object: 'chat.completion.chunk', created: CREATED, model }
  const chunk = (choices: object[], usage: object | null = null) =>
    `data: ${JSON.stringify({ ...head, choices, usage })}\n\n`
  const delta = (value: object, finish: string | null = null) => ({
    index: 0,
    delta: value,
    logprobs: null,
    finish_reason: finish,
  })
  return [
    chunk([delta({ role: 'assistant', content: '' })]),
    ...REPLY_PIECES.map((piece) => chunk([delta({ content: piece })])),
    chunk([delta({}, 'stop')]),
    chunk([], openAiUsage()),
    'data: [DONE]\n\n',
  ]
}

// Anthropic messages shape.

const ANTHROPIC_ID = 'msg_fake_0001'

function anthropicMessage(model: string): object {
  return {
    id: ANTHROPIC_ID,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: REPLY_TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output },
  }
}

/** The event sequence of a streamed message; the final output count is in `message_delta`. */
function anthropicEvents(model: string): string[] {
  const event = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
  const start = {
    ...anthropicMessage(model),
    content: [],
    stop_reason: null,
    usage: { input_tokens: USAGE.input, output_tokens: 1 },
  }
  return [
    event('message_start', { message: start }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...REPLY_PIECES.map((text) =>
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
    ),
    event('content_block_stop', { index: 0 }),
    event('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: USAGE.output },
    }),
    event('message_stop', {}),
  ]
}
