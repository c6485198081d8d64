import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ERRORS, type ErrorCode } from '../../../src/errors/codes.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import type { AuditEvent } from '../../../src/audit/event.js'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { parseLogLine } from '../../helpers/cli.js'
import { basicAuth, rawRequest } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { hostileConfig } from './hostile-config.js'
import { openTunnel, parseResponses, type WireResponse } from './wire.js'

interface Tokens {
  bot: string
  other: string
  revoked: string
  expired: string
}

interface CredentialCase {
  name: string
  /** The credential header lines (each ending in CRLF) the hostile agent sends. */
  lines: (t: Tokens) => string
  code: ErrorCode
  /** Whose valid token the case presents under another name: the agent on record. */
  tokenOf?: 'bot' | 'other'
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
const proxyAuth = (value: string) => `Proxy-Authorization: ${value}\r\n`

/** Every way of getting the credentials wrong, and the one code each must get. */
const CASES: CredentialCase[] = [
  { name: 'no credentials', lines: () => '', code: 'TOLLGATE_AUTH_REQUIRED' },
  {
    name: 'the token in Authorization instead of Proxy-Authorization',
    lines: (t) => `Authorization: Bearer ${t.bot}\r\n`,
    code: 'TOLLGATE_AUTH_REQUIRED',
  },
  {
    name: 'an unknown scheme',
    lines: (t) => proxyAuth(`Digest ${t.bot}`),
    code: 'TOLLGATE_AUTH_REQUIRED',
  },
  { name: 'a bare token', lines: (t) => proxyAuth(t.bot), code: 'TOLLGATE_AUTH_REQUIRED' },
  {
    name: 'Basic glued to its credentials',
    lines: (t) => proxyAuth(`Basic${b64(`bot:${t.bot}`)}`),
    code: 'TOLLGATE_AUTH_REQUIRED',
  },
  {
    name: 'a scheme that is Basic plus one letter',
    lines: () => proxyAuth('BasicX'),
    code: 'TOLLGATE_AUTH_REQUIRED',
  },
  {
    name: 'Bearer glued to the token',
    lines: (t) => proxyAuth(`Bearer${t.bot}`),
    code: 'TOLLGATE_AUTH_REQUIRED',
  },
  {
    name: 'Basic without a colon',
    lines: (t) => proxyAuth(`Basic ${b64(`bot${t.bot}`)}`),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'Basic that is not base64',
    lines: () => proxyAuth('Basic !!!!'),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'an empty agent name',
    lines: (t) => proxyAuth(basicAuth('', t.bot)),
    code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
    tokenOf: 'bot',
  },
  {
    name: "bot's token presented as other",
    lines: (t) => proxyAuth(basicAuth('other', t.bot)),
    code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
    tokenOf: 'bot',
  },
  {
    name: "other's token presented as bot",
    lines: (t) => proxyAuth(basicAuth('bot', t.other)),
    code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
    tokenOf: 'other',
  },
  {
    name: 'the agent name in another case',
    lines: (t) => proxyAuth(basicAuth('BOT', t.bot)),
    code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
    tokenOf: 'bot',
  },
  {
    name: 'the agent name with an encoded NUL',
    lines: (t) => proxyAuth(basicAuth('bot%00', t.bot)),
    code: 'TOLLGATE_AUTH_AGENT_MISMATCH',
    tokenOf: 'bot',
  },
  ...[' ', '\t', '\0', '\r\n', '\u00a0'].map((char): CredentialCase => ({
    name: `the token followed by ${JSON.stringify(char)}`,
    lines: (t) => proxyAuth(basicAuth('bot', t.bot + char)),
    code: 'TOLLGATE_AUTH_INVALID',
  })),
  {
    name: 'the token preceded by a space',
    lines: (t) => proxyAuth(basicAuth('bot', ' ' + t.bot)),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'Bearer with a second word',
    lines: (t) => proxyAuth(`Bearer ${t.bot} ${t.bot}`),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'a huge credential',
    lines: () => proxyAuth(`Basic ${'QUFB'.repeat(7000)}`),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'a well-formed token nobody issued',
    lines: () => proxyAuth(`Bearer tgt_${'A'.repeat(43)}`),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'a revoked token',
    lines: (t) => proxyAuth(basicAuth('bot', t.revoked)),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'an expired token',
    lines: (t) => proxyAuth(basicAuth('bot', t.expired)),
    code: 'TOLLGATE_AUTH_INVALID',
  },
  {
    name: 'two Proxy-Authorization headers',
    lines: (t) => proxyAuth(basicAuth('bot', t.bot)) + proxyAuth(basicAuth('other', t.other)),
    code: 'TOLLGATE_AMBIGUOUS_TARGET',
  },
]

const CHALLENGE = 'Basic realm="tollgate", charset="UTF-8"'

describe('hostile agent: proxy credentials are refused with a stable code, never borrowed', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let tokens: Tokens
  const tokenIds: Record<string, string> = {}
  /** Everything the relay answered, for the final leak sweep. */
  const answers: string[] = []

  const forward = (path: string, lines: string) =>
    `GET http://127.0.0.1:${http.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n` +
    `${lines}Connection: close\r\n\r\n`
  const connect = (lines: string) => {
    const target = `127.0.0.1:${https.port}`
    return `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${lines}\r\n`
  }
  const send = async (bytes: string): Promise<WireResponse> => {
    const text = await rawRequest(tg.proxyPort, bytes)
    answers.push(text)
    const [response] = parseResponses(text)
    assert.ok(response, `a whole response, got ${JSON.stringify(text.slice(0, 200))}`)
    return response
  }
  const eventOf = async (requestId: string): Promise<AuditEvent> => {
    const find = () => tg.auditEvents().find((e) => e.request_id === requestId)
    await waitFor(() => find() !== undefined, `the audit event of ${requestId}`)
    return find() as AuditEvent
  }

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(hostileConfig({ http: http.port, https: https.port }), {
      'upstream-ca.pem': tls.caPem,
    })
    const revoked = tg.issueToken('bot')
    assert.equal(new TokenStore(tg.db).revoke(revoked.id), true)
    const expiresAt = Date.now() + 1
    const expired = tg.issueToken('bot', 1)
    await waitFor(() => Date.now() > expiresAt + 1, 'the short token to expire')
    const bot = tg.issueToken('bot')
    const other = tg.issueToken('other')
    tokenIds['bot'] = bot.id
    tokenIds['other'] = other.id
    tokens = { bot: bot.token, other: other.token, revoked: revoked.token, expired: expired.token }
  })

  after(async () => {
    await tg.stop()
    await http.close()
    await https.close()
  })

  /** The refusal a credential case must get: code, status, challenge, JSON body, request id. */
  function assertRefusal(response: WireResponse, code: ErrorCode, what: string): string {
    const { status } = ERRORS[code]
    assert.equal(response.status, status, what)
    assert.equal(response.headers['tollgate-error'], code, what)
    const body = JSON.parse(response.body) as { error: { code: string }; request_id: string }
    assert.equal(body.error.code, code, what)
    const requestId = response.headers['tollgate-request-id'] ?? ''
    assert.match(requestId, /^req_[A-Za-z0-9_-]+$/, what)
    assert.equal(body.request_id, requestId, what)
    const challenge = response.headers['proxy-authenticate']
    assert.equal(challenge, status === 407 ? CHALLENGE : undefined, what)
    return requestId
  }

  /**
   * The audit event of a refused credential: never the borrowed agent. Who asked is unknown,
   * unless a valid token came under another agent's name: then the event names the token's own
   * agent, its owner and team, and the token, so the operator sees whose token was misused.
   */
  function assertRefusalEvent(event: AuditEvent, credential: CredentialCase, method: string) {
    const { code, name, tokenOf } = credential
    const unauthenticated = ERRORS[code].status === 407
    assert.equal(event.type, unauthenticated ? 'auth.failed' : 'request.rejected', name)
    assert.equal(event.decision, unauthenticated ? 'unauthenticated' : 'malformed', name)
    assert.equal(event.code, code, name)
    assert.equal(event.method, method, name)
    assert.equal(event.agent, tokenOf ?? null, name)
    assert.equal(event.owner, tokenOf ? 'alice@example.com' : null, name)
    assert.equal(event.team, tokenOf ? 'platform' : null, name)
    assert.equal(event.token_id, tokenOf ? tokenIds[tokenOf] : null, name)
    assert.equal(event.client, '127.0.0.1', name)
  }

  /** The one decision line of a request, by its id. */
  const decisionLineOf = (requestId: string) =>
    tg.logs
      .map(parseLogLine)
      .filter((log) => log?.['event'] === 'request' && log['requestId'] === requestId)

  test('a forward request with bad credentials: its code, a challenge, an audit event, no upstream', async () => {
    const reached = http.received.length
    for (const credential of CASES) {
      const { name, lines, code } = credential
      const response = await send(forward('/open/x', lines(tokens)))
      const requestId = assertRefusal(response, code, name)
      assertRefusalEvent(await eventOf(requestId), credential, 'GET')
      const [line] = decisionLineOf(requestId)
      assert.equal(line?.['agent'], credential.tokenOf, name)
    }
    assert.equal(http.received.length, reached, 'no refused request reached the upstream')
  })

  test('a CONNECT with bad credentials: the same code on the raw socket, audited, no tunnel', async () => {
    const reached = https.received.length
    for (const credential of CASES) {
      const { name, lines, code } = credential
      const response = await send(connect(lines(tokens)))
      const requestId = assertRefusal(response, code, name)
      assertRefusalEvent(await eventOf(requestId), credential, 'CONNECT')
      const [line] = decisionLineOf(requestId)
      assert.equal(line?.['agent'], credential.tokenOf, name)
    }
    assert.equal(https.received.length, reached)
  })

  test('credentials the HTTP parser refuses are answered, recorded and logged without an identity', async () => {
    const parserRefused: Array<[string, ErrorCode]> = [
      [proxyAuth(`Basic ${'QUFB'.repeat(10_000)}`), 'TOLLGATE_HEADERS_TOO_LARGE'],
      [`Proxy-Authorization: Bearer ${tokens.bot}\rX: y\r\n`, 'TOLLGATE_MALFORMED_REQUEST'],
      [`Proxy-Authorization: Bearer \x1b[2J${tokens.bot}\r\n`, 'TOLLGATE_MALFORMED_REQUEST'],
    ]
    for (const [lines, code] of parserRefused) {
      for (const bytes of [forward('/open/x', lines), connect(lines)]) {
        const requestId = assertRefusal(await send(bytes), code, code)
        const event = await eventOf(requestId)
        assert.equal(event.type, 'request.rejected')
        assert.equal(event.code, code)
        assert.equal(event.agent, null)

        const logged = decisionLineOf(requestId)
        assert.equal(logged.length, 1, `one decision line for ${code}`)
        const [line] = logged
        assert.equal(line?.['level'], 40)
        assert.equal(line?.['decision'], 'malformed')
        assert.equal(line?.['code'], code)
        assert.equal(line?.['status'], ERRORS[code].status)
        assert.match(String(line?.['upstreamError']), /^HPE_/)
        assert.equal(line?.['agent'], undefined)
        const text = JSON.stringify(line)
        for (const secret of [tokens.bot, tokens.bot.slice(4), 'QUFBQUFB']) {
          assert.ok(!text.includes(secret), `the decision line holds no credential: ${text}`)
        }
      }
    }
  })

  test('what clients really send is accepted, and acts as the token’s own agent', async () => {
    const accepted = [
      proxyAuth(basicAuth('bot', tokens.bot)),
      proxyAuth(`basic ${b64(`bot:${tokens.bot}`)}`),
      proxyAuth(`BEARER ${tokens.bot}`),
      proxyAuth(basicAuth('%62ot', tokens.bot)),
    ]
    for (const lines of accepted) {
      const before = http.received.length
      const response = await send(forward('/open/ok', lines))
      assert.equal(response.status, 200, lines)
      assert.equal(http.received.length, before + 1)
      assert.equal(http.received.at(-1)?.headers['proxy-authorization'], undefined)
    }
    const decided = tg.auditEvents().filter((e) => e.type === 'request.decided')
    assert.ok(decided.length >= accepted.length)
    assert.ok(decided.every((e) => e.agent === 'bot'))
  })

  test('a token of one agent never makes a request as another agent, here or in a tunnel', async () => {
    // `other` may reach /other/; bot's token under other's name must not get there.
    const asOther = proxyAuth(basicAuth('other', tokens.bot))
    const plain = await send(forward('/other/x', asOther))
    assert.equal(plain.headers['tollgate-error'], 'TOLLGATE_AUTH_AGENT_MISMATCH')

    // Inside bot's tunnel, other's credentials are ignored: the tunnel's caller decides.
    const tunnel = await openTunnel(
      tg.proxyPort,
      `127.0.0.1:${https.port}`,
      proxyAuth(basicAuth('bot', tokens.bot)),
      tg.caPem,
    )
    const inner = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${https.port}\r\n` +
      proxyAuth(basicAuth('other', tokens.other)) +
      '\r\n'
    tunnel.send(inner('/other/x'))
    const refused = await tunnel.response(1)
    assert.equal(refused.status, 403)
    assert.equal(refused.headers['tollgate-error'], 'TOLLGATE_POLICY_NO_MATCH')
    tunnel.send(inner('/open/x'))
    const allowed = await tunnel.response(2)
    assert.equal(allowed.status, 200)
    assert.equal(https.received.at(-1)?.headers['proxy-authorization'], undefined)
    tunnel.destroy()

    // Other's token under bot's name is recorded as other's, refused; nothing else is.
    const otherEvents = tg
      .auditEvents()
      .filter((e) => e.agent === 'other' && e.code !== 'TOLLGATE_AUTH_AGENT_MISMATCH')
    assert.deepEqual(otherEvents, [], 'nothing was ever recorded as a request of other')
  })

  test('an agent cannot choose its request id: a forged one reaches neither answer nor trail', async () => {
    const forged = 'req_forged0001'
    const lines = `tollgate-request-id: ${forged}\r\nX-Request-Id: ${forged}\r\n`
    const refused = await send(forward('/open/x', lines))
    const denied = await send(forward('/nowhere', lines + proxyAuth(basicAuth('bot', tokens.bot))))
    const refusedConnect = await send(connect(lines))
    for (const response of [refused, denied, refusedConnect]) {
      const id = response.headers['tollgate-request-id'] ?? ''
      assert.notEqual(id, forged)
      assert.match(id, /^req_[A-Za-z0-9_-]+$/)
      const body = JSON.parse(response.body) as { request_id: string }
      assert.equal(body.request_id, id)
      await eventOf(id)
    }
    await send(forward('/open/forged', lines + proxyAuth(basicAuth('bot', tokens.bot))))
    const events = tg.auditEvents()
    assert.ok(!events.some((e) => JSON.stringify(e).includes(forged)), 'the forged id is nowhere')
    assert.ok(!tg.logs.some((line) => line.includes(forged)))
  })

  test('no token, nor its Basic form, appears in a log line, audit event, answer or metric', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${tg.controlPort}/metrics`)).text()
    const places: Array<[string, string]> = [
      ['log', tg.logs.join('\n')],
      ['audit', tg.auditLines().join('\n')],
      ['answers', answers.join('\n')],
      ['metrics', metrics],
    ]
    assert.ok(tg.logs.length > CASES.length, 'the relay logged the refusals')
    for (const name of ['bot', 'other', 'revoked', 'expired'] as const) {
      const token = tokens[name]
      const forms = [token, token.slice(4), b64(`bot:${token}`), b64(`other:${token}`)]
      for (const [where, text] of places) {
        for (const form of forms) assert.ok(!text.includes(form), `${name} token in ${where}`)
      }
    }
  })

  test('an agent sending its own token to an upstream is refused, and the token is not recorded', async () => {
    const before = http.received.length
    const auth = proxyAuth(basicAuth('bot', tokens.bot))
    const encoded = tokens.bot.replace('tgt_', '%74gt%5F')
    const attempts = [
      forward('/open/x', `${auth}X-Note: ${tokens.bot}\r\n`),
      forward('/open/x', `${auth}Cookie: a=1\r\nCookie: s=${encodeURIComponent(tokens.bot)}\r\n`),
      forward(`/open/${tokens.bot}`, auth),
      forward(`/open/${encoded}`, auth),
      forward(`/open/x?note=${tokens.bot}`, auth),
      // Another agent's token is no less a credential.
      forward('/open/x', `${auth}X-Note: Bearer ${tokens.other}\r\n`),
    ]
    for (const bytes of attempts) {
      const response = await send(bytes)
      assert.equal(response.status, 403, bytes)
      assert.equal(response.headers['tollgate-error'], 'TOLLGATE_TOKEN_EXFILTRATION')
      const requestId = response.headers['tollgate-request-id'] ?? ''
      const event = await eventOf(requestId)
      assert.equal(event.decision, 'deny')
      assert.equal(event.code, 'TOLLGATE_TOKEN_EXFILTRATION')
      assert.equal(event.agent, 'bot')
    }
    // A request that only looks a little like one still goes.
    const near = await send(forward('/open/tgt_short', auth))
    assert.equal(near.status, 200)
    const sent = http.received.slice(before)
    assert.equal(sent.length, 1)
    assert.ok(!JSON.stringify(sent).includes(tokens.bot), 'the token never left the relay')
    assert.ok(!tg.auditLines().some((line) => line.includes(tokens.bot)))
    assert.ok(!tg.logs.some((line) => line.includes(tokens.bot)))
  })
})
