import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rootCertificates } from 'node:tls'

import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { CertificateAuthority } from '../../../../src/relay/tls/certificate-authority.js'
import { buildUpstreamCa } from '../../../../src/relay/tls/upstream-trust.js'

test('extra CAs are added to the system roots, not put in their place', async () => {
  const ca = await CertificateAuthority.generate()
  const trusted = buildUpstreamCa([ca.certificatePem])

  assert.equal(trusted.length, rootCertificates.length + 1)
  assert.deepEqual(trusted.slice(0, rootCertificates.length), [...rootCertificates])
  assert.equal(trusted.at(-1), ca.certificatePem.trim())
})

test('a bundle entry contributes each of its certificates', async () => {
  const [a, b] = await Promise.all([
    CertificateAuthority.generate(),
    CertificateAuthority.generate(),
  ])
  const trusted = buildUpstreamCa([`${a.certificatePem}\n${b.certificatePem}`])

  assert.equal(trusted.length, rootCertificates.length + 2)
})

test('no extras means exactly the system roots', () => {
  assert.deepEqual(buildUpstreamCa([]), [...rootCertificates])
})

test('an entry without a readable certificate is a configuration error', () => {
  const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----'
  const isConfigError = (e: unknown): boolean =>
    isTollgateError(e) && e.code === 'TOLLGATE_CONFIG_INVALID' && e.message.includes('entry 1')

  assert.throws(() => buildUpstreamCa([rootCertificates[0] ?? '', 'not a pem']), isConfigError)
  assert.throws(() => buildUpstreamCa([rootCertificates[0] ?? '', broken]), isConfigError)
})
