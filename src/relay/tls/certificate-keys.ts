import { generateKeyPair as generateNodeKeyPair, randomBytes, webcrypto } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { promisify } from 'node:util'

/** A WebCrypto key, as `@peculiar/x509` expects it. */
export type CryptoKey = webcrypto.CryptoKey

/** A WebCrypto key pair, as `@peculiar/x509` expects it. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair

/**
 * The one algorithm the interception CA uses, for its own key and every leaf. P-256 because an
 * RSA key takes ~140 ms to generate and doubles the handshake cost; every TLS client in use
 * accepts ECDSA.
 */
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

/** One day in milliseconds, the unit certificate validity is counted in. */
export const DAY_MS = 24 * 60 * 60 * 1000

/** The WebCrypto provider handed to `@peculiar/x509` on every call, instead of a global one. */
export const certificateCrypto = webcrypto

/** Generates the CA key pair as WebCrypto keys, which `createSelfSigned` signs with. */
export async function generateCaKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])
}

/** A leaf's key pair in the encodings it is used in: SPKI for the certificate, PEM for `tls`. */
export interface LeafKeyPair {
  readonly publicKeyDer: Buffer
  /** PKCS #8 PEM. A secret: never log it. */
  readonly privateKeyPem: string
}

const generateEcKeyPair = promisify(generateNodeKeyPair)

/**
 * Generates a leaf's ECDSA P-256 key pair with `node:crypto`, which yields the PEM the TLS
 * context needs directly instead of a WebCrypto export round trip on every mint.
 */
export async function generateLeafKeyPair(): Promise<LeafKeyPair> {
  const keys = await generateEcKeyPair('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })

  return { publicKeyDer: keys.publicKey, privateKeyPem: keys.privateKey }
}

/** Exports a private key as an unencrypted PKCS #8 PEM, the form `tls` and `openssl` read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []

  return ['-----BEGIN PRIVATE KEY-----', ...lines, '-----END PRIVATE KEY-----', ''].join('\n')
}

/** Imports a parsed private key as a non-extractable WebCrypto signing key. */
export async function importSigningKey(key: KeyObject): Promise<CryptoKey> {
  const der = key.export({ format: 'der', type: 'pkcs8' })
  return webcrypto.subtle.importKey('pkcs8', der, ECDSA_P256, false, ['sign'])
}

/**
 * A random 16-byte serial number in hex. The top bit is cleared so the DER integer stays
 * positive, and the next bit is set so no leading zero byte is stripped: every serial is exactly
 * 16 bytes with 126 random bits, well above the 64 the CA/Browser Forum asks for.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40

  return bytes.toString('hex')
}
