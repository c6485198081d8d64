import 'reflect-metadata'
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import {
  CertificateAuthority,
  loadOrCreateCa,
} from '../../../../src/relay/tls/certificate-authority.js'
import { DAY_MS, FIXED_NOW, createStateDir, fixedClock } from './tls-fixtures.js'

const cleanups: Array<() => Promise<void>> = []
after(() => Promise.all(cleanups.map((remove) => remove())))

async function stateDir(): Promise<string> {
  const { dir, remove } = await createStateDir()
  cleanups.push(remove)
  return dir
}

function modeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o777)
}

function hasCode(code: string, pattern?: RegExp) {
  return (error: unknown): boolean =>
    isTollgateError(error) && error.code === code && (!pattern || pattern.test(error.message))
}

describe('loadOrCreateCa', () => {
  test('first run writes the key 0600, the certificate 0644, the directory 0700', async () => {
    const dir = await stateDir()
    const ca = await loadOrCreateCa(dir)

    assert.equal(await modeOf(join(dir, 'ca')), 0o700)
    assert.equal(await modeOf(join(dir, 'ca', 'ca.key.pem')), 0o600)
    assert.equal(await modeOf(join(dir, 'ca', 'ca.crt.pem')), 0o644)
    assert.equal(await readFile(join(dir, 'ca', 'ca.crt.pem'), 'utf8'), ca.certificatePem)
    assert.deepEqual((await readdir(join(dir, 'ca'))).sort(), ['ca.crt.pem', 'ca.key.pem'])
  })

  test('a second run loads the same CA', async () => {
    const dir = await stateDir()
    const first = await loadOrCreateCa(dir)
    const second = await loadOrCreateCa(dir)

    assert.equal(second.certificatePem, first.certificatePem)
  })

  test('a key readable by group is refused with the path and the chmod fix', async () => {
    const dir = await stateDir()
    await loadOrCreateCa(dir)
    const keyPath = join(dir, 'ca', 'ca.key.pem')
    await chmod(keyPath, 0o640)

    const expected = hasCode('TOLLGATE_CA_KEY_INSECURE', /chmod 600/)
    await assert.rejects(loadOrCreateCa(dir), expected)
    await assert.rejects(loadOrCreateCa(dir), (e: unknown) => String(e).includes(keyPath))
  })

  test('concurrent first runs in one directory end with one CA', async () => {
    const dir = await stateDir()
    const cas = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateCa(dir)))
    const onDisk = await readFile(join(dir, 'ca', 'ca.crt.pem'), 'utf8')

    for (const ca of cas) assert.equal(ca.certificatePem, onDisk)
    assert.deepEqual((await readdir(join(dir, 'ca'))).sort(), ['ca.crt.pem', 'ca.key.pem'])
  })

  test('a certificate that does not match the key is refused', async () => {
    const dir = await stateDir()
    await loadOrCreateCa(dir)
    const other = await CertificateAuthority.generate()
    await writeFile(join(dir, 'ca', 'ca.crt.pem'), other.certificatePem)

    await assert.rejects(loadOrCreateCa(dir), hasCode('TOLLGATE_CA_UNAVAILABLE', /not match/))
  })

  test('a key without its certificate is refused, not replaced', async () => {
    const dir = await stateDir()
    await loadOrCreateCa(dir)
    await writeFile(join(dir, 'ca', 'ca.crt.pem'), '')

    await assert.rejects(loadOrCreateCa(dir), hasCode('TOLLGATE_CA_UNAVAILABLE'))
  })

  test('an expired CA is refused', async () => {
    const dir = await stateDir()
    await loadOrCreateCa(dir, { now: fixedClock })
    const later = (): Date => new Date(FIXED_NOW.getTime() + 11 * 365 * DAY_MS)

    await assert.rejects(loadOrCreateCa(dir, { now: later }), hasCode('TOLLGATE_CA_UNAVAILABLE'))
  })
})

describe('the CA certificate', () => {
  test('is a path-length-0 ECDSA CA valid for ten years from a day ago', async () => {
    const ca = await CertificateAuthority.generate({ now: fixedClock })
    const cert = new x509.X509Certificate(ca.certificatePem)
    const constraints = cert.getExtension(x509.BasicConstraintsExtension)
    const usages = cert.getExtension(x509.KeyUsagesExtension)

    assert.match(cert.subject, /^CN=Tollgate Local CA [0-9a-f]{8}, O=Tollgate$/)
    assert.equal(cert.subject, cert.issuer)
    assert.deepEqual(
      [constraints?.ca, constraints?.pathLength, constraints?.critical],
      [true, 0, true],
    )
    assert.equal(usages?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)
    assert.equal(usages?.critical, true)
    assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension))
    assert.equal(cert.notBefore.getTime(), FIXED_NOW.getTime() - DAY_MS)
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 3650 * DAY_MS)
    assert.equal(await cert.verify({ signatureOnly: true }), true)
  })

  test('two installations get distinguishable names', async () => {
    const [a, b] = await Promise.all([
      CertificateAuthority.generate(),
      CertificateAuthority.generate(),
    ])
    const subject = (pem: string): string => new x509.X509Certificate(pem).subject

    assert.notEqual(subject(a.certificatePem), subject(b.certificatePem))
  })
})
