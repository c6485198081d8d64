// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata
// API installed before the library module is evaluated.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'

import {
  DAY_MS,
  ECDSA_P256,
  certificateCrypto,
  generateLeafKeyPair,
  randomSerialNumber,
  type CryptoKey,
} from './certificate-keys.js'
import type { LeafHost } from './leaf-host.js'

/** What a leaf needs from the CA that signs it. Build it once per CA with `createLeafIssuer`. */
export interface LeafIssuer {
  /** The CA's subject, reused byte for byte so clients can chain the leaf to it. */
  readonly name: x509.Name
  readonly signingKey: CryptoKey
  /** The extensions every leaf shares, built once per CA instead of on every mint. */
  readonly commonExtensions: readonly x509.Extension[]
  /** No leaf outlives its CA: clients reject a chain whose issuer expires first. */
  readonly notAfter: Date
}

/** A minted leaf. `keyPem` is a secret: never log it. */
export interface IssuedLeaf {
  readonly certPem: string
  readonly keyPem: string
  readonly notAfter: Date
}

// Browsers refuse server certificates valid for more than 398 days; a year leaves room.
const LEAF_VALIDITY_DAYS = 365

// RFC 5280 caps a common name at 64 characters; longer DNS names live in the SAN alone.
const MAX_COMMON_NAME = 64

/** Mints a server certificate for one host, signed by `issuer`, with a fresh key. */
export async function createLeafCertificate(
  host: LeafHost,
  issuer: LeafIssuer,
  now: Date,
): Promise<IssuedLeaf> {
  const keys = await generateLeafKeyPair()
  const notBefore = new Date(now.getTime() - DAY_MS)
  const notAfter = earlier(new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS), issuer)
  const hasCommonName = host.name.length <= MAX_COMMON_NAME

  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: hasCommonName ? [{ CN: [host.name] }] : [],
      issuer: issuer.name,
      publicKey: keys.publicKeyDer,
      signingKey: issuer.signingKey,
      serialNumber: randomSerialNumber(),
      notBefore,
      notAfter,
      signingAlgorithm: ECDSA_P256,
      extensions: leafExtensions(host, issuer, !hasCommonName),
    },
    certificateCrypto,
  )

  return { certPem: cert.toString('pem'), keyPem: keys.privateKeyPem, notAfter }
}

/** Prepares `cert` and its key for signing leaves. */
export async function createLeafIssuer(
  cert: x509.X509Certificate,
  signingKey: CryptoKey,
): Promise<LeafIssuer> {
  const commonExtensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    await authorityKeyIdentifier(cert),
  ]

  return { name: cert.subjectName, signingKey, commonExtensions, notAfter: cert.notAfter }
}

// Reuse the CA's own subject key id when it has one, so the leaf's AKI matches it exactly even
// for a CA made elsewhere with a different key-id method.
async function authorityKeyIdentifier(
  cert: x509.X509Certificate,
): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId)

  return x509.AuthorityKeyIdentifierExtension.create(cert.publicKey, false, certificateCrypto)
}

// With an empty subject, RFC 5280 requires the SAN extension to be critical.
function leafExtensions(host: LeafHost, issuer: LeafIssuer, sanCritical: boolean) {
  const san = { type: host.kind, value: host.name } as const
  return [...issuer.commonExtensions, new x509.SubjectAlternativeNameExtension([san], sanCritical)]
}

function earlier(notAfter: Date, issuer: LeafIssuer): Date {
  return notAfter < issuer.notAfter ? notAfter : issuer.notAfter
}
