import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SecureContext } from 'node:tls'

import { CertificateAuthority } from '../../../../src/relay/tls/certificate-authority.js'
import { LeafCache } from '../../../../src/relay/tls/leaf-cache.js'
import { createSniCallback, type SniTracker } from '../../../../src/relay/tls/sni-callback.js'

function lookup(tracker: SniTracker, servername: string): Promise<SecureContext | undefined> {
  return new Promise((resolve, reject) => {
    tracker.SNICallback(servername, (error, context) => (error ? reject(error) : resolve(context)))
  })
}

test('without an expected host the SNI name is served and recorded lower-cased', async () => {
  const cache = new LeafCache(await CertificateAuthority.generate())
  const tracker = createSniCallback(cache)

  assert.equal(tracker.getServername(), null)
  const context = await lookup(tracker, 'API.Example.TEST')

  assert.equal(tracker.getServername(), 'api.example.test')
  assert.equal(context, await cache.getSecureContext('api.example.test'))
})

test('with an expected host that host is served, whatever the SNI', async () => {
  const cache = new LeafCache(await CertificateAuthority.generate())
  const tracker = createSniCallback(cache, 'api.example.test')

  const context = await lookup(tracker, 'other.example.test')

  assert.equal(tracker.getServername(), 'other.example.test')
  assert.equal(context, await cache.getSecureContext('api.example.test'))
  assert.equal(cache.size, 1)
})

test('an SNI name that cannot be certified fails the lookup', async () => {
  const cache = new LeafCache(await CertificateAuthority.generate())
  await assert.rejects(lookup(createSniCallback(cache), '*.example.test'), {
    code: 'TOLLGATE_BAD_HOST',
  })
})
