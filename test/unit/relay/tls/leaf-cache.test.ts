import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { createSecureContext } from 'node:tls'

import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { CertificateAuthority } from '../../../../src/relay/tls/certificate-authority.js'
import type { IssuedLeaf } from '../../../../src/relay/tls/leaf-certificate.js'
import { LeafCache, type LeafMinter } from '../../../../src/relay/tls/leaf-cache.js'
import { DAY_MS, FIXED_NOW, fixedClock } from './tls-fixtures.js'

let ca: CertificateAuthority

before(async () => {
  ca = await CertificateAuthority.generate({ now: fixedClock })
})

/** A real CA that counts its mints and can be told to fail the next ones. */
class CountingMinter implements LeafMinter {
  readonly minted: string[] = []
  failuresLeft = 0

  get certificatePem(): string {
    return ca.certificatePem
  }

  async issueLeaf(host: string): Promise<IssuedLeaf> {
    this.minted.push(host)
    if (this.failuresLeft > 0) {
      this.failuresLeft--
      throw new Error('mint failed')
    }
    return ca.issueLeaf(host)
  }
}

describe('LeafCache', () => {
  test('the same host, in any case, gets the same context object', async () => {
    const minter = new CountingMinter()
    const cache = new LeafCache(minter, { now: fixedClock })

    const first = await cache.getSecureContext('api.example.test')
    const second = await cache.getSecureContext('API.Example.TEST.')

    assert.equal(second, first)
    assert.deepEqual(minter.minted, ['api.example.test'])
    assert.deepEqual([cache.hits, cache.misses], [1, 1])
  })

  test('concurrent lookups for one host mint once', async () => {
    const minter = new CountingMinter()
    const cache = new LeafCache(minter, { now: fixedClock })

    const contexts = await Promise.all(
      Array.from({ length: 8 }, () => cache.getSecureContext('api.example.test')),
    )

    assert.equal(minter.minted.length, 1)
    assert.ok(contexts.every((context) => context === contexts[0]))
    assert.deepEqual([cache.hits, cache.misses], [7, 1])
  })

  test('the least recently used host is evicted', async () => {
    const minter = new CountingMinter()
    const cache = new LeafCache(minter, { maxEntries: 2, now: fixedClock })

    for (const host of ['a.test', 'b.test', 'a.test', 'c.test']) await cache.getSecureContext(host)
    assert.equal(cache.size, 2)
    await cache.getSecureContext('a.test')
    await cache.getSecureContext('b.test')

    assert.deepEqual(minter.minted, ['a.test', 'b.test', 'c.test', 'b.test'])
  })

  test('a failed mint reaches every waiter and is not cached', async () => {
    const minter = new CountingMinter()
    minter.failuresLeft = 1
    const cache = new LeafCache(minter, { now: fixedClock })

    const waiters = [1, 2, 3].map(() => cache.getSecureContext('api.example.test'))
    for (const waiter of waiters) await assert.rejects(waiter, /mint failed/)
    await cache.getSecureContext('api.example.test')

    assert.equal(minter.minted.length, 2)
    assert.equal(cache.size, 1)
  })

  test('a leaf within a day of expiry is minted again', async () => {
    const minter = new CountingMinter()
    let now = FIXED_NOW
    const cache = new LeafCache(minter, { now: () => now })

    await cache.getSecureContext('api.example.test')
    now = new Date(FIXED_NOW.getTime() + 363.5 * DAY_MS)
    await cache.getSecureContext('api.example.test')

    assert.equal(minter.minted.length, 2)
  })

  test('an invalid host is refused before anything is minted', async () => {
    const minter = new CountingMinter()
    const cache = new LeafCache(minter)
    const isBadHost = (e: unknown): boolean => isTollgateError(e) && e.code === 'TOLLGATE_BAD_HOST'

    await assert.rejects(cache.getSecureContext('*.example.test'), isBadHost)
    assert.deepEqual(minter.minted, [])
  })
})

// A measurement, not a check: the figures go to the test output for the report.
test('mint cost (printed, not asserted)', async (t) => {
  const rounds = 50
  let mintMs = 0
  let contextMs = 0

  for (let i = 0; i < rounds; i++) {
    const started = performance.now()
    const leaf = await ca.issueLeaf(`host-${i}.example.test`)
    const minted = performance.now()
    createSecureContext({ cert: `${leaf.certPem}\n${ca.certificatePem}`, key: leaf.keyPem })
    mintMs += minted - started
    contextMs += performance.now() - minted
  }

  t.diagnostic(
    `leaf mint ${(mintMs / rounds).toFixed(2)} ms, context ${(contextMs / rounds).toFixed(2)} ms`,
  )
})
