import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { after, describe, test } from 'node:test'

import type { LimitsConfig } from '../../../../src/config/types.js'
import { ConnectionAdmission } from '../../../../src/relay/limits/connection-admission.js'
import type { ShedReason } from '../../../../src/relay/limits/limit-metrics.js'

/** The little of a socket admission uses: its address, `destroy` and `close`. */
class FakeSocket extends EventEmitter {
  destroyed = false
  constructor(readonly remoteAddress: string | undefined) {
    super()
  }
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.emit('close')
  }
}

function asSocket(fake: FakeSocket | undefined): Socket {
  assert.ok(fake)
  return fake as unknown as Socket
}

const LIMITS = {
  connections: 5,
  unauthenticatedConnections: 3,
  unauthenticatedPerAddress: 2,
} as LimitsConfig

void describe('ConnectionAdmission', () => {
  const shed: ShedReason[] = []
  const admission = new ConnectionAdmission(
    () => LIMITS,
    (reason) => shed.push(reason),
  )
  const all: FakeSocket[] = []
  const admit = (address: string | undefined) => {
    const socket = new FakeSocket(address)
    all.push(socket)
    admission.admit(asSocket(socket))
    return socket
  }
  // Refused sockets wait out a grace timer; end it so the test process can exit.
  after(() => all.forEach((s) => s.destroy()))

  void test('one address past its cap is refused; others are not', () => {
    const a1 = admit('10.0.0.1')
    admit('10.0.0.1')
    const a3 = admit('10.0.0.1')
    assert.equal(admission.isRefused(asSocket(a3)), true)
    assert.equal(admission.isRefused(asSocket(a1)), false)
    assert.deepEqual(shed, ['address_cap'])
    assert.equal(admission.unauthenticated, 2)
  })

  void test('a full unauthenticated set closes its oldest member for a newcomer', () => {
    admit('10.0.0.2')
    const newcomer = admit('10.0.0.3')
    assert.equal(all[0]?.destroyed, true, 'the oldest waiter was closed')
    assert.equal(newcomer.destroyed, false)
    assert.equal(admission.unauthenticated, 3)
    assert.deepEqual(shed, ['address_cap', 'evicted'])
  })

  void test('an authenticated socket leaves the count and frees its address', () => {
    admission.authenticated(asSocket(all[1]))
    assert.equal(admission.unauthenticated, 2)
    assert.equal(admission.isRefused(asSocket(admit('10.0.0.1'))), false)
  })

  void test('UNIX sockets count only towards the process cap, which refuses past it', () => {
    assert.equal(admission.open, 4)
    const box = admit(undefined)
    assert.equal(admission.isRefused(asSocket(box)), false)
    assert.equal(admission.open, 5)
    assert.equal(admission.isRefused(asSocket(admit(undefined))), true)
    assert.equal(shed.at(-1), 'process_cap')

    box.destroy()
    assert.equal(admission.open, 4)
  })
})
