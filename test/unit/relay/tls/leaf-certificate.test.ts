import 'reflect-metadata'
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { X509Certificate as NodeCertificate } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { CertificateAuthority } from '../../../../src/relay/tls/certificate-authority.js'
import { DAY_MS, FIXED_NOW, createStateDir, fixedClock } from './tls-fixtures.js'

let ca: CertificateAuthority
let caCert: x509.X509Certificate

before(async () => {
  ca = await CertificateAuthority.generate({ now: fixedClock })
  caCert = new x509.X509Certificate(ca.certificatePem)
})

async function leafFor(host: string): Promise<x509.X509Certificate> {
  return new x509.X509Certificate((await ca.issueLeaf(host)).certPem)
}

describe('CertificateAuthority.issueLeaf', () => {
  test('a DNS host gets a DNS SAN, its CN and server-only usages', async () => {
    const leaf = await leafFor('API.Example.test')
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)
    const constraints = leaf.getExtension(x509.BasicConstraintsExtension)

    assert.equal(leaf.subject, 'CN=api.example.test')
    assert.deepEqual(san?.names.toJSON(), [{ type: 'dns', value: 'api.example.test' }])
    assert.equal(constraints?.ca, false)
    assert.equal(
      leaf.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.digitalSignature,
    )
    assert.deepEqual(
      [...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.serverAuth],
    )
  })

  test('IPv4 and IPv6 literals get IP SANs, never DNS', async () => {
    const v4 = new NodeCertificate((await ca.issueLeaf('127.0.0.1')).certPem)
    const v6 = new NodeCertificate((await ca.issueLeaf('[::1]')).certPem)

    assert.equal(v4.subjectAltName, 'IP Address:127.0.0.1')
    assert.equal(v4.checkIP('127.0.0.1'), '127.0.0.1')
    assert.equal(v6.subjectAltName, 'IP Address:0:0:0:0:0:0:0:1')
    assert.equal(v6.checkIP('::1'), '::1')
  })

  test('the leaf chains to the CA by name, key id and signature', async () => {
    const leaf = new NodeCertificate((await ca.issueLeaf('api.example.test')).certPem)
    const caNode = new NodeCertificate(ca.certificatePem)
    const aki = (await leafFor('api.example.test')).getExtension(
      x509.AuthorityKeyIdentifierExtension,
    )

    assert.equal(leaf.verify(caNode.publicKey), true)
    assert.equal(leaf.checkIssued(caNode), true)
    assert.equal(leaf.checkHost('api.example.test'), 'api.example.test')
    assert.equal(leaf.checkHost('other.example.test'), undefined)
    assert.equal(aki?.keyId, caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId)
  })

  test('validity starts a day back and lasts a year, under 398 days', async () => {
    const leaf = await leafFor('api.example.test')
    const days = (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / DAY_MS

    assert.equal(leaf.notBefore.getTime(), FIXED_NOW.getTime() - DAY_MS)
    assert.equal(days, 365)
    assert.ok(days < 398)
  })

  test('serials are 16 random bytes with the top bit clear', async () => {
    const serials = await Promise.all(
      [1, 2, 3].map(async () => (await leafFor('a.test')).serialNumber),
    )

    for (const serial of serials) assert.match(serial, /^[4-7][0-9a-f]{31}$/i)
    assert.equal(new Set(serials).size, serials.length)
  })

  test('a name too long for a CN has an empty subject and a critical SAN', async () => {
    const host = `${'a'.repeat(60)}.example.test`
    const leaf = await leafFor(host)
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)

    assert.equal(leaf.subject, '')
    assert.equal(san?.critical, true)
    assert.deepEqual(san?.names.toJSON(), [{ type: 'dns', value: host }])
  })

  test('a wildcard host is refused', async () => {
    const isBadHost = (e: unknown): boolean => isTollgateError(e) && e.code === 'TOLLGATE_BAD_HOST'
    await assert.rejects(ca.issueLeaf('*.example.test'), isBadHost)
  })
})

describe('openssl verify', () => {
  const hasOpenssl = spawnSync('openssl', ['version']).status === 0
  const state = createStateDir()
  after(async () => (await state).remove())

  async function writePems(host: string): Promise<{ caPath: string; leafPath: string }> {
    const { dir } = await state
    const caPath = join(dir, 'ca.pem')
    const leafPath = join(dir, `${host.replace(/[^a-z0-9]/g, '_')}.pem`)
    await writeFile(caPath, ca.certificatePem)
    await writeFile(leafPath, (await ca.issueLeaf(host)).certPem)
    return { caPath, leafPath }
  }

  function verify(caPath: string, leafPath: string, ...extra: string[]): string {
    const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caPath]
    // The fixed clock is in the past; tell openssl the time the certificates were made for.
    const atTime = String(Math.floor(FIXED_NOW.getTime() / 1000))
    const command = [...args, '-attime', atTime, ...extra, leafPath]
    return execFileSync('openssl', command, { stdio: 'pipe' }).toString()
  }

  test('accepts a DNS leaf for its name, strictly', { skip: !hasOpenssl }, async () => {
    const { caPath, leafPath } = await writePems('api.example.test')
    assert.match(verify(caPath, leafPath, '-verify_hostname', 'api.example.test'), /: OK/)
  })

  test('accepts an IP leaf for its address', { skip: !hasOpenssl }, async () => {
    const { caPath, leafPath } = await writePems('127.0.0.1')
    assert.match(verify(caPath, leafPath, '-verify_ip', '127.0.0.1'), /: OK/)
  })

  test('rejects a leaf for another name', { skip: !hasOpenssl }, async () => {
    const { caPath, leafPath } = await writePems('api.example.test')
    assert.throws(() => verify(caPath, leafPath, '-verify_hostname', 'evil.example.test'))
  })
})
