import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { basicAuth } from '../../helpers/raw-http.js'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { TokenStore } from '../../../src/identity/token-store.js'
import type { AuditEvent } from '../../../src/audit/event.js'

/** What an SSH server says first: not HTTP, so an intercepting relay would break it. */
const BANNER = 'SSH-2.0-TollgateTest_1.0\r\n'

/** A loopback TCP server that sends a banner, then echoes every byte back. */
interface BannerServer {
  port: number
  /** How many connections reached it. */
  accepted: number
  close(): Promise<void>
}

async function startBannerServer(): Promise<BannerServer> {
  const sockets = new Set<Socket>()
  const state = { accepted: 0 }
  const server: Server = createServer((socket) => {
    state.accepted++
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.once('close', () => sockets.delete(socket))
    socket.write(BANNER)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return state.accepted
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Sends CONNECT and resolves with the relay's reply head (and the socket, still open). */
async function connectThrough(proxyPort: number, target: string, auth: string) {
  const socket = connect(proxyPort, '127.0.0.1')
  socket.on('error', () => undefined)
  const head = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${auth}\r\n\r\n`
  socket.write(head)
  const reply = await readUntil(socket, (text) => text.includes('\r\n\r\n'))
  return { socket, reply }
}

/** Collects what the socket receives until `done` says the text is complete. */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (!done(text)) return
      // Paused, so bytes arriving before the next read wait for it instead of being dropped.
      socket.off('data', onData)
      socket.pause()
      resolve(text)
    }
    socket.on('data', onData)
    socket.resume()
    socket.once('close', () => (done(text) ? resolve(text) : reject(new Error(`closed: ${text}`))))
  })
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve()
    else socket.once('close', () => resolve())
  })
}

function bodyOf(reply: string): { error: { code: string; rule: string | null } } {
  return JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string; rule: string | null }
  }
}

describe('opaque tunnels: raw TCP spliced through CONNECT where a rule says so', () => {
  let server: BannerServer
  let tg: Harness
  let bot: { id: string; token: string }
  let web: { id: string; token: string }
  const auth = (who: { token: string }, agent = 'bot') => basicAuth(agent, who.token)

  const completed = (requestId: string): AuditEvent | undefined =>
    tg.auditEvents().find((e) => e.type === 'request.completed' && e.request_id === requestId)

  const opaqueCompletions = () =>
    tg.auditEvents().filter((e) => e.type === 'request.completed' && e.rule === 'git/ssh').length

  before(async () => {
    server = await startBannerServer()
    tg = await startTollgate(
      `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [git] }
  - { name: web, owner: alice@example.com, team: platform, policies: [web] }
policies:
  - name: git
    rules:
      - name: ssh
        hosts: ["127.0.0.1"]
        ports: [${server.port}]
        tunnel: opaque
      - name: ssh-by-name
        hosts: ["localhost"]
        ports: [${server.port}]
        tunnel: opaque
  - name: web
    rules:
      - name: https-only
        hosts: ["127.0.0.1"]
        ports: [${server.port}]
`,
      {},
      '  limits: { tunnelsPerAgent: 2 }\n',
    )
    bot = tg.issueToken('bot')
    web = tg.issueToken('web')
  })

  after(async () => {
    await tg.stop()
    await server.close()
  })

  test('non-HTTP bytes pass both ways unchanged, and the close is audited with bytes each way', async () => {
    const { socket, reply } = await connectThrough(
      tg.proxyPort,
      `127.0.0.1:${server.port}`,
      auth(bot),
    )
    assert.match(reply, /^HTTP\/1.1 200 /)
    const requestId = await lastRequestId(tg, 'request.decided')

    const afterHead = reply.slice(reply.indexOf('\r\n\r\n') + 4)
    const banner =
      afterHead.length >= BANNER.length
        ? afterHead
        : await readMore(socket, afterHead, BANNER.length)
    assert.equal(banner, BANNER)

    const hello = 'SSH-2.0-client\r\n\x00\x01\x02binary\xff'
    socket.write(Buffer.from(hello, 'latin1'))
    const echoed = await readUntil(socket, (text) => text.length >= hello.length)
    assert.equal(echoed, hello)
    socket.end()
    await closed(socket)

    await waitFor(() => completed(requestId) !== undefined, 'the tunnel completion event')
    const event = completed(requestId)
    assert.equal(event?.method, 'CONNECT')
    assert.equal(event?.decision, 'allow')
    assert.equal(event?.rule, 'git/ssh')
    assert.equal(event?.agent, 'bot')
    assert.equal(event?.status, 200)
    assert.equal(event?.bytes_in, Buffer.byteLength(hello, 'latin1'))
    assert.equal(event?.bytes_out, BANNER.length + Buffer.byteLength(hello, 'latin1'))
    assert.equal(typeof event?.duration_ms, 'number')
    assert.deepEqual(event?.detail, { tunnel: 'opaque', address: '127.0.0.1' })
  })

  test('the agent tunnel cap counts opaque tunnels', async () => {
    const done = opaqueCompletions()
    const first = await connectThrough(tg.proxyPort, `127.0.0.1:${server.port}`, auth(bot))
    const second = await connectThrough(tg.proxyPort, `127.0.0.1:${server.port}`, auth(bot))
    const third = await connectThrough(tg.proxyPort, `127.0.0.1:${server.port}`, auth(bot))
    assert.match(first.reply, /^HTTP\/1.1 200 /)
    assert.match(second.reply, /^HTTP\/1.1 200 /)
    assert.match(third.reply, /^HTTP\/1.1 429 /)
    for (const { socket } of [first, second, third]) socket.destroy()
    // Recorded once the relay closed both sides, so the cap is free again for later tests.
    await waitFor(() => opaqueCompletions() === done + 2, 'both tunnels recorded as closed')
  })

  test('without an opaque rule the CONNECT is refused and nothing reaches the server', async () => {
    const before = server.accepted
    const { socket, reply } = await connectThrough(
      tg.proxyPort,
      `127.0.0.1:${server.port}`,
      auth(web, 'web'),
    )
    // web has an https rule for that port: the CONNECT is intercepted, so TLS is expected and
    // the banner server is never dialled by the tunnel itself.
    assert.match(reply, /^HTTP\/1.1 200 /)
    socket.destroy()

    const other = await connectThrough(tg.proxyPort, `127.0.0.1:${server.port + 1}`, auth(bot))
    assert.match(other.reply, /^HTTP\/1.1 403 /)
    assert.equal(bodyOf(other.reply).error.code, 'TOLLGATE_POLICY_NO_MATCH')
    assert.equal(server.accepted, before)
  })

  test('a name resolving to loopback is refused by the destination check, after the decision', async () => {
    const before = server.accepted
    const { socket, reply } = await connectThrough(
      tg.proxyPort,
      `localhost:${server.port}`,
      auth(bot),
    )
    socket.destroy()
    assert.match(reply, /^HTTP\/1.1 403 /)
    const body = bodyOf(reply)
    assert.equal(body.error.code, 'TOLLGATE_DESTINATION_FORBIDDEN')
    assert.equal(body.error.rule, 'git/ssh-by-name')
    assert.equal(server.accepted, before)

    const requestId = await lastRequestId(tg, 'request.decided')
    await waitFor(() => completed(requestId) !== undefined, 'the refused tunnel completion')
    assert.equal(completed(requestId)?.code, 'TOLLGATE_DESTINATION_FORBIDDEN')
    assert.equal(completed(requestId)?.decision, 'deny')
  })

  test('revoking the token cuts an open opaque tunnel', async () => {
    const fresh = tg.issueToken('bot')
    const { socket, reply } = await connectThrough(
      tg.proxyPort,
      `127.0.0.1:${server.port}`,
      auth(fresh),
    )
    assert.match(reply, /^HTTP\/1.1 200 /)

    // The CLI revokes from another process; a second connection to the store stands in for it.
    assert.equal(new TokenStore(tg.db).revoke(fresh.id), true)
    await closed(socket)
    assert.ok(socket.destroyed)
  })
})

/** The request id of the newest audit event of a type. */
async function lastRequestId(tg: Harness, type: AuditEvent['type']): Promise<string> {
  let id: string | null = null
  await waitFor(() => {
    const events = tg.auditEvents().filter((e) => e.type === type)
    id = events[events.length - 1]?.request_id ?? null
    return id !== null
  }, `a ${type} event`)
  return id ?? ''
}

async function readMore(socket: Socket, start: string, length: number): Promise<string> {
  const rest = await readUntil(socket, (text) => start.length + text.length >= length)
  return start + rest
}
