import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { startTollgate, waitFor, type Harness } from '../../helpers/tollgate-harness.js'
import { openClient } from './socket-client.js'

const SECRET = 'ws-Secret-Value-7f3a91'
const MASK = '*'.repeat(SECRET.length)
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

function config(wsPort: number, rawPort: number): string {
  return `
people: [{ email: alice@example.com, teams: [platform] }]
agents: [{ name: bot, owner: alice@example.com, team: platform, policies: [ws] }]
policies:
  - name: ws
    rules:
      - name: keyed-sockets
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${wsPort}, ${rawPort}]
        paths: ["/ws/**"]
        websocket: true
        credential: upstream-key
        allowPlaintextCredential: true
      - name: open-sockets
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${wsPort}]
        paths: ["/open/**"]
        websocket: true
credentials:
  - name: upstream-key
    secret: upstream-secret
    hosts: ["127.0.0.1"]
    header: { name: X-Upstream-Key, format: "{secret}" }
routes:
  - name: live
    upstream: http://127.0.0.1:${wsPort}
  - name: raw
    upstream: http://127.0.0.1:${rawPort}
`
}

/** Answers each command with the `X-Upstream-Key` it was given, in a different kind of frame. */
function echoKey(socket: WebSocket, key: string, data: RawData): void {
  const command = (data as Buffer).toString()
  if (command === 'text') socket.send(`your key is ${key}.`)
  if (command === 'binary') socket.send(Buffer.concat([Buffer.from([0, 1]), Buffer.from(key)]))
  if (command === 'big') {
    const big = Buffer.alloc(70_000, 'x')
    big.write(key, 10)
    big.write(key, 69_000)
    socket.send(big, { binary: true })
  }
  if (command === 'fragments') {
    socket.send(`start ${key.slice(0, 7)}`, { fin: false })
    socket.send(key.slice(7, 12), { fin: false })
    socket.send(`${key.slice(12)} end`, { fin: true })
  }
  if (command === 'ping') socket.ping(key)
  if (command === 'close') socket.close(4000, key)
}

/**
 * A hand-written WebSocket upstream for what `ws` will not send. On `/ws/deflate` it names an
 * extension in its 101; elsewhere it sends the key in a good frame, and once the agent answers,
 * a masked frame, which no server may send.
 */
function rawUpstream(handshakes: string[]) {
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return void socket.write(MASKED_FRAME)
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) answer(socket, head)
    })
  })
  const answer = (socket: Socket, request: string) => {
    handshakes.push(request)
    const key = /^sec-websocket-key:\s*(\S+)/im.exec(request)?.[1] ?? ''
    const injected = /^x-upstream-key:\s*(\S+)/im.exec(request)?.[1] ?? ''
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64')
    const deflate = request.startsWith('GET /ws/deflate')
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') +
        '\r\n',
    )
    const payload = Buffer.from(injected)
    if (!deflate) socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]))
  }
  return { server, sockets }
}

/** "hi" in a text frame with the mask bit set and key 1 2 3 4. */
const MASKED_FRAME = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2])

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** Resolves with the first value `arm` produces, or fails after a bounded wait. */
function within<T>(
  what: string,
  arm: (resolve: (value: T) => void, reject: (error: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000)
    arm(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

describe('WebSocket frames are scrubbed when the handshake carried a credential', () => {
  let upstream: Server
  let wss: WebSocketServer
  let raw: ReturnType<typeof rawUpstream>
  const upgrades: IncomingHttpHeaders[] = []
  const rawHandshakes: string[] = []
  let wsPort: number
  let rawPort: number
  let tg: Harness
  let token: string
  const clients: WebSocket[] = []

  before(async () => {
    upstream = createServer((_req, res) => res.end('plain'))
    // Compression offered by the upstream too: only the relay's stripping keeps it off.
    wss = new WebSocketServer({ server: upstream, perMessageDeflate: true })
    wss.on('connection', (socket, req) => {
      upgrades.push(req.headers)
      const key = String(req.headers['x-upstream-key'] ?? 'none')
      socket.on('message', (data) => echoKey(socket, key, data))
    })
    raw = rawUpstream(rawHandshakes)
    wsPort = await listen(upstream)
    rawPort = await listen(raw.server)
    tg = await startTollgate(config(wsPort, rawPort))
    tg.setSecret('upstream-secret', SECRET)
    token = tg.issueToken('bot').token
  })

  after(async () => {
    for (const client of clients) client.terminate()
    await tg.stop()
    for (const client of wss.clients) client.terminate()
    wss.close()
    upstream.closeAllConnections()
    await new Promise((resolve) => upstream.close(resolve))
    for (const socket of raw.sockets) socket.destroy()
    await new Promise((resolve) => raw.server.close(resolve))
  })

  async function connect(path: string): Promise<WebSocket> {
    const url = `ws://127.0.0.1:${tg.reversePort}${path}`
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    clients.push(socket)
    await within<void>(`the handshake on ${path}`, (resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return socket
  }

  function reply(socket: WebSocket, command: string): Promise<{ data: Buffer; binary: boolean }> {
    return within(`a reply to ${command}`, (resolve) => {
      socket.once('message', (data: Buffer, binary) => resolve({ data, binary }))
      socket.send(command)
    })
  }

  test('text, binary, fragmented and 64 KiB+ messages arrive masked, never with the key', async () => {
    const socket = await connect('/live/ws/echo')
    assert.equal(upgrades.at(-1)?.['x-upstream-key'], SECRET, 'the upstream got the key')

    const text = await reply(socket, 'text')
    assert.equal(text.data.toString(), `your key is ${MASK}.`)
    assert.equal(text.binary, false)

    const binary = await reply(socket, 'binary')
    assert.deepEqual(binary.data, Buffer.concat([Buffer.from([0, 1]), Buffer.from(MASK)]))
    assert.equal(binary.binary, true)

    const fragments = await reply(socket, 'fragments')
    assert.equal(fragments.data.toString(), `start ${MASK} end`)

    const big = await reply(socket, 'big')
    assert.equal(big.data.length, 70_000)
    assert.ok(!big.data.includes(SECRET))
    assert.equal(big.data.subarray(10, 10 + SECRET.length).toString(), MASK)
    assert.equal(big.data.subarray(69_000, 69_000 + SECRET.length).toString(), MASK)
  })

  test('ping and close payloads are masked too', async () => {
    const socket = await connect('/live/ws/control')
    const ping = await within<Buffer>('a ping', (resolve) => {
      socket.once('ping', resolve)
      socket.send('ping')
    })
    assert.equal(ping.toString(), MASK)

    const closed = await within<{ code: number; reason: string }>('a close', (resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
      socket.send('close')
    })
    assert.deepEqual(closed, { code: 4000, reason: MASK })
  })

  test('no extension is offered upstream, so none is negotiated', async () => {
    const socket = await connect('/live/ws/deflate')
    assert.equal(upgrades.at(-1)?.['sec-websocket-extensions'], undefined)
    assert.equal(socket.extensions, '')
  })

  test('without a credential the stream is not touched and extensions pass', async () => {
    const socket = await connect('/live/open/echo')
    assert.equal(upgrades.at(-1)?.['x-upstream-key'], undefined)
    assert.match(upgrades.at(-1)?.['sec-websocket-extensions'] ?? '', /permessage-deflate/)
    assert.match(socket.extensions, /permessage-deflate/)
    const text = await reply(socket, 'text')
    assert.equal(text.data.toString(), 'your key is none.')
  })

  test('an upstream that negotiates an extension anyway is refused with 502', async () => {
    const url = `ws://127.0.0.1:${tg.reversePort}/raw/ws/deflate`
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    clients.push(socket)
    const refused = await within<{ status: number; code: unknown }>('a refusal', (resolve) => {
      socket.once('unexpected-response', (_req, res) =>
        resolve({ status: res.statusCode ?? 0, code: res.headers['tollgate-error'] }),
      )
      socket.once('open', () => resolve({ status: 101, code: null }))
      socket.once('error', () => undefined)
    })
    assert.deepEqual(refused, { status: 502, code: 'TOLLGATE_UPSTREAM_ENCODING' })
    assert.ok(!/permessage-deflate/i.test(rawHandshakes.at(-1) ?? 'missing'))
  })

  test('an upstream that sends a masked frame gets the agent connection closed', async () => {
    const client = await openClient(tg.reversePort)
    client.socket.write(
      'GET /raw/ws/masked HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        `Authorization: Bearer ${token}\r\n\r\n`,
    )
    // The good frame arrives scrubbed.
    const goodFrame = `\x81${String.fromCharCode(SECRET.length)}${MASK}`
    await waitFor(() => client.received().endsWith(goodFrame), 'the good frame')
    assert.match(client.received(), /^HTTP\/1\.1 101 /)

    // The agent says something (a masked client frame); the upstream answers with a bad frame.
    client.socket.write(MASKED_FRAME)
    await waitFor(() => client.isClosed(), 'the relay to close the agent connection', 10_000)
    assert.ok(client.received().endsWith(goodFrame), 'nothing of the masked frame was passed')
    await waitFor(() => raw.sockets.size === 0, 'the relay to close the upstream connection')
  })

  test('the reason is on the completion event, and the key is in no audit line or log', async () => {
    const masked = () =>
      tg.auditEvents().find((e) => e.type === 'request.completed' && e.path === '/ws/masked')
    await waitFor(() => masked() !== undefined, 'the completion event of the masked frame')
    assert.equal(masked()?.upstream_error, 'WS_MASKED_FRAME')

    const refused = tg
      .auditEvents()
      .find((e) => e.type === 'request.completed' && e.path === '/ws/deflate')
    assert.equal(refused?.code, 'TOLLGATE_UPSTREAM_ENCODING')
    assert.equal(refused?.upstream_error, 'WS_EXTENSION_NEGOTIATED')

    assert.ok(!tg.auditLines().some((line) => line.includes(SECRET)))
    assert.ok(!tg.logs.some((line) => line.includes(SECRET)))
  })
})
