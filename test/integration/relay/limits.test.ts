import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import { basicAuth, headerOf, statusOf } from '../../helpers/raw-http.js'
import { startTollgate, type Harness } from '../../helpers/tollgate-harness.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'

/** Opens a keep-alive connection, sends one request on it and returns the first response. */
async function openAndAsk(
  port: number,
  request: string,
): Promise<{ socket: Socket; reply: string }> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  const reply = new Promise<string>((resolve) =>
    socket.once('data', (d: Buffer) => resolve(d.toString())),
  )
  socket.write(request)
  return { socket, reply: await reply }
}

describe('per-agent limits: one agent cannot hold the relay open for itself', () => {
  let http: EchoUpstream
  let https: EchoUpstream
  let tg: Harness
  let bot: string
  let other: string
  const open: Socket[] = []

  before(async () => {
    const tls = await createUpstreamTls()
    http = await startEchoUpstream()
    https = await startEchoUpstream(tls)
    tg = await startTollgate(
      `
people: [{ email: alice@example.com, teams: [platform] }]
agents:
  - { name: bot, owner: alice@example.com, team: platform, policies: [open] }
  - { name: other, owner: alice@example.com, team: platform, policies: [open] }
policies:
  - name: open
    rules:
      - name: all
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${http.port}, ${https.port}]
`,
      {},
      '  limits: { connectionsPerAgent: 2, tunnelsPerAgent: 1 }\n',
    )
    bot = basicAuth('bot', tg.issueToken('bot').token)
    other = basicAuth('other', tg.issueToken('other').token)
  })

  after(async () => {
    for (const socket of open) socket.destroy()
    await tg.stop()
    await http.close()
    await https.close()
  })

  const get = (auth: string) =>
    `GET http://127.0.0.1:${http.port}/x HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\n` +
    `Proxy-Authorization: ${auth}\r\n\r\n`
  const connectTo = (auth: string) =>
    `CONNECT 127.0.0.1:${https.port} HTTP/1.1\r\nHost: 127.0.0.1:${https.port}\r\n` +
    `Proxy-Authorization: ${auth}\r\n\r\n`

  test('connections past the cap get 429 with a stable code; another agent is unaffected', async () => {
    for (let i = 0; i < 2; i++) {
      const { socket, reply } = await openAndAsk(tg.proxyPort, get(bot))
      open.push(socket)
      assert.equal(statusOf(reply), 200)
    }
    const third = await openAndAsk(tg.proxyPort, get(bot))
    open.push(third.socket)
    assert.equal(statusOf(third.reply), 429)
    assert.equal(headerOf(third.reply, 'tollgate-error'), 'TOLLGATE_CONNECTION_LIMIT')

    const others = await openAndAsk(tg.proxyPort, get(other))
    open.push(others.socket)
    assert.equal(statusOf(others.reply), 200)
  })

  test('closing a connection frees its place', async () => {
    open.shift()?.destroy()
    // The relay learns of the close asynchronously: retry a bounded number of times.
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const again = await openAndAsk(tg.proxyPort, get(bot))
      status = statusOf(again.reply)
      if (status === 200) open.push(again.socket)
      else again.socket.destroy()
    }
    assert.equal(status, 200)
  })

  test('tunnels have their own cap', async () => {
    const first = await openAndAsk(tg.proxyPort, connectTo(bot))
    open.push(first.socket)
    assert.equal(statusOf(first.reply), 200)
    const second = await openAndAsk(tg.proxyPort, connectTo(bot))
    open.push(second.socket)
    assert.equal(statusOf(second.reply), 429)
    assert.equal(headerOf(second.reply, 'tollgate-error'), 'TOLLGATE_CONNECTION_LIMIT')
  })
})
