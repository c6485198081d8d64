// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata
// API installed before the library module is evaluated.
import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import * as x509 from '@peculiar/x509'

import {
  DAY_MS,
  ECDSA_P256,
  certificateCrypto,
  exportPrivateKeyPem,
  generateCaKeyPair,
  randomSerialNumber,
  type CryptoKey,
} from './certificate-keys.js'

/** A CA certificate and its private key, both PEM. The key is a secret: never log it. */
export interface CaPems {
  readonly certPem: string
  readonly keyPem: string
}

const CA_VALIDITY_DAYS = 10 * 365

/**
 * Creates a fresh self-signed interception CA: ECDSA P-256, valid for ten years from a day ago.
 * The random suffix in the name tells one installation's CA from another's in a trust store.
 */
export async function createCaPems(now: Date): Promise<CaPems> {
  const keys = await generateCaKeyPair()
  const notBefore = new Date(now.getTime() - DAY_MS)

  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [`Tollgate Local CA ${randomBytes(4).toString('hex')}`] }, { O: ['Tollgate'] }],
      keys,
      serialNumber: randomSerialNumber(),
      notBefore,
      notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: ECDSA_P256,
      extensions: await caExtensions(keys.publicKey),
    },
    certificateCrypto,
  )

  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) }
}

// Path length 0: this CA signs leaves only, so a leaf key that leaks cannot mint further certs.
async function caExtensions(publicKey: CryptoKey): Promise<x509.Extension[]> {
  const usages = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign

  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(usages, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, certificateCrypto),
  ]
}
