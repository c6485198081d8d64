import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { describe, test } from 'node:test'
import type { LimitsConfig } from '../../../src/config/types.js'
import { ConnectionRegistry } from '../../../src/relay/connection-registry.js'

/** A socket stand-in: the registry only destroys sockets and listens for their close. */
function socket(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done()
    },
  })
}

function registry(caps: { connections: number; tunnels: number }): ConnectionRegistry {
  const limits = {
    connectionsPerAgent: caps.connections,
    tunnelsPerAgent: caps.tunnels,
  } as LimitsConfig
  return new ConnectionRegistry(() => limits)
}

async function close(s: Duplex): Promise<void> {
  const closed = new Promise((resolve) => s.once('close', resolve))
  s.destroy()
  await closed
}

describe('ConnectionRegistry', () => {
  test('a connection that turns into a tunnel is held to the tunnel cap', () => {
    const connections = registry({ connections: 10, tunnels: 1 })
    const first = socket()
    const second = socket()

    connections.track('tok_1', 'bot', first, 'connection')
    connections.track('tok_1', 'bot', first, 'tunnel')
    connections.track('tok_1', 'bot', second, 'connection')

    assert.throws(
      () => connections.track('tok_1', 'bot', second, 'tunnel'),
      (error: { code?: string }) => error.code === 'TOLLGATE_CONNECTION_LIMIT',
    )
  })

  test('a tunnel stops counting as a plain connection, and frees its tunnel slot on close', async () => {
    const connections = registry({ connections: 1, tunnels: 1 })
    const first = socket()

    connections.track('tok_1', 'bot', first, 'connection')
    connections.track('tok_1', 'bot', first, 'tunnel')
    // Its plain-connection slot went with it, so a new plain connection fits.
    connections.track('tok_1', 'bot', socket(), 'connection')
    await close(first)
    connections.track('tok_1', 'bot', socket(), 'tunnel')

    assert.equal(connections.size, 2)
  })

  test('the same socket tracked again as what it already is counts once', () => {
    const connections = registry({ connections: 1, tunnels: 1 })
    const only = socket()

    connections.track('tok_1', 'bot', only, 'connection')
    connections.track('tok_1', 'bot', only, 'connection')

    assert.equal(connections.size, 1)
  })
})
