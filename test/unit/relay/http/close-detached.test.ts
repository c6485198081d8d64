import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { sendDetachedError } from '../../../../src/relay/http/error-response.js'

/**
 * A socket Node's HTTP server has handed over (CONNECT, upgrade) is closed by nothing but the
 * relay. Bytes the agent sends after the refusal must not keep it open: issue #3's corpus
 * found refused CONNECTs that stayed open for ever, and held up the relay's graceful stop.
 */
describe('sendDetachedError', () => {
  const accepted: Socket[] = []
  const server = createServer((socket) => {
    socket.pause()
    accepted.push(socket)
  })
  let port = 0

  before(async () => {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  async function refusedPair(): Promise<{
    client: Socket
    relaySide: Socket
    reply: Promise<string>
  }> {
    // Half-open allowed: like an agent that goes on writing after the relay has ended.
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    await once(client, 'connect')
    while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve))
    const relaySide = accepted.shift() as Socket
    const chunks: Buffer[] = []
    client.on('data', (chunk: Buffer) => chunks.push(chunk))
    const reply = once(client, 'end').then(() => Buffer.concat(chunks).toString('latin1'))
    sendDetachedError(relaySide, {
      code: 'TOLLGATE_POLICY_NO_MATCH',
      message: 'no rule matched; denied by default',
      requestId: 'req_test',
    })
    return { client, relaySide, reply }
  }

  test('the agent gets the JSON refusal and the connection ends', async () => {
    const { client, relaySide, reply } = await refusedPair()
    assert.match(await reply, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*"TOLLGATE_POLICY_NO_MATCH"/)
    client.end()
    await once(relaySide, 'close')
    assert.ok(relaySide.readableEnded)
  })

  test('bytes the agent sends after the refusal do not keep the socket open', async () => {
    const { client, relaySide, reply } = await refusedPair()
    await reply
    client.write('GET http://elsewhere.test/ HTTP/1.1\r\n\r\n')
    client.end()
    await once(relaySide, 'close')
    assert.ok(relaySide.readableEnded, "closed because the agent's end was read, not cut")
  })

  test('an agent that never closes is cut', async () => {
    const { client, relaySide, reply } = await refusedPair()
    await reply
    await once(relaySide, 'close')
    assert.equal(relaySide.readableEnded, false, 'cut while the agent kept its side open')
    client.destroy()
  })
})
