import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { after, before, beforeEach, describe, test } from 'node:test'
import {
  isBehindClosingAnswer,
  whenSocketFree,
} from '../../../../src/relay/listeners/pipelining.js'

const WEBSOCKET =
  'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

/**
 * Requests pipelined on one connection, against a real Node HTTP server wired the way the
 * relay's listeners are. Issue #3's corpus found a request behind a closing 401 still decided
 * and sent upstream, and an upgrade pipelined behind any request taking down the whole
 * process (`ServerResponse has an already assigned socket`, thrown in an event handler).
 */
describe('pipelining', () => {
  let server: Server
  let port = 0
  /** Requests the handler went on to decide, and upgrades it took the socket for. */
  let decided: string[] = []
  let taken: string[] = []
  /** A response held open until the test releases it. */
  let held: ServerResponse | null = null

  before(async () => {
    server = createServer(onRequest)
    server.on('upgrade', onUpgrade)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  beforeEach(() => {
    decided = []
    taken = []
    held = null
  })

  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (isBehindClosingAnswer(req.socket, res)) return
    decided.push(req.url ?? '')
    if (req.url === '/close') res.shouldKeepAlive = false
    if (req.url === '/held') held = res
    else res.end(`answer ${req.url ?? ''}\n`)
  }

  // What `handleUpgrade` does: bind a response of its own to the socket, once it is free.
  function onUpgrade(req: IncomingMessage, socket: Duplex): void {
    socket.on('error', () => socket.destroy())
    whenSocketFree(socket, () => {
      taken.push(req.url ?? '')
      const res = new ServerResponse(req)
      res.assignSocket(socket as Socket)
      res.once('finish', () => socket.end())
      res.writeHead(403, { 'content-length': 8 })
      res.end('refused\n')
    })
    held?.end('answer /held\n')
  }

  /** Sends `bytes` in one write and returns all the server wrote until it closed. */
  async function exchange(bytes: string): Promise<string> {
    const client = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    client.on('data', (chunk: Buffer) => chunks.push(chunk))
    await once(client, 'connect')
    client.write(bytes)
    await once(client, 'close')
    return Buffer.concat(chunks).toString('latin1')
  }

  const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`

  test('a request behind an answer that closes the connection is never decided', async () => {
    const reply = await exchange(get('/close') + get('/after'))

    assert.deepEqual(decided, ['/close'])
    assert.equal(reply.match(/HTTP\/1\.1 /g)?.length, 1)
    assert.ok(reply.endsWith('answer /close\n'))
  })

  test('behind an answer that keeps the connection, the next request is decided', async () => {
    const reply = await exchange(get('/first') + get('/second', 'Connection: close\r\n'))

    assert.deepEqual(decided, ['/first', '/second'])
    assert.ok(reply.indexOf('answer /first') < reply.indexOf('answer /second'))
  })

  test('an upgrade behind a pending answer takes the socket after it, in turn', async () => {
    const reply = await exchange(get('/held') + get('/ws', WEBSOCKET))

    assert.deepEqual(decided, ['/held'])
    assert.deepEqual(taken, ['/ws'])
    const answer = reply.indexOf('answer /held')
    assert.ok(answer > 0, reply)
    assert.ok(reply.indexOf('HTTP/1.1 403') > answer, 'the upgrade is answered second')
  })

  test('an upgrade behind an answer that closes the connection is never taken', async () => {
    const reply = await exchange(get('/close') + get('/ws', WEBSOCKET))

    assert.deepEqual(taken, [])
    assert.equal(reply.match(/HTTP\/1\.1 /g)?.length, 1)
  })

  test('an upgrade alone takes the socket at once', async () => {
    const reply = await exchange(get('/ws', WEBSOCKET))

    assert.deepEqual(taken, ['/ws'])
    assert.ok(reply.startsWith('HTTP/1.1 403'))
  })
})
