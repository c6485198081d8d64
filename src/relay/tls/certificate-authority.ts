// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata
// API installed before the library module is evaluated.
import 'reflect-metadata'
import { X509Certificate as NodeCertificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import * as x509 from '@peculiar/x509'

import { isTollgateError } from '../../errors/tollgate-error.js'
import { createCaPems, type CaPems } from './ca-certificate.js'
import { caPaths, caUnavailable, readCaFiles, writeCaFilesExclusive } from './ca-files.js'
import type { CaPaths } from './ca-files.js'
import { importSigningKey } from './certificate-keys.js'
import { createLeafCertificate, createLeafIssuer } from './leaf-certificate.js'
import type { IssuedLeaf, LeafIssuer } from './leaf-certificate.js'
import { parseLeafHost } from './leaf-host.js'

export type { CaPems } from './ca-certificate.js'
export type { IssuedLeaf } from './leaf-certificate.js'

/** Options shared by every way of obtaining a CA. */
export interface CertificateAuthorityOptions {
  /** The clock for validity checks and leaf dates; tests pass a fixed one. */
  now?: () => Date
}

/**
 * The relay's own certificate authority, which signs a leaf for each host whose TLS the relay
 * terminates inside a CONNECT tunnel. Agents trust it through `certificatePem`.
 *
 * Security: whoever holds the CA key can impersonate any host to every client that trusts it.
 * The key is held only as a non-extractable WebCrypto key, and no method returns it.
 */
export class CertificateAuthority {
  readonly #certificatePem: string
  readonly #issuer: LeafIssuer
  readonly #now: () => Date

  private constructor(certificatePem: string, issuer: LeafIssuer, now: () => Date) {
    this.#certificatePem = certificatePem
    this.#issuer = issuer
    this.#now = now
  }

  /**
   * Builds a CA from PEMs, checking that the key belongs to the certificate, that both are
   * ECDSA P-256 and that the certificate has not expired.
   *
   * @throws TollgateError `TOLLGATE_CA_UNAVAILABLE` naming what is wrong, never the key.
   */
  static async fromPem(
    pems: CaPems,
    options: CertificateAuthorityOptions = {},
  ): Promise<CertificateAuthority> {
    const now = clockOf(options)
    const key = parsePrivateKey(pems.keyPem)
    const cert = parseCaCertificate(pems.certPem, key, now())

    const issuer = await createLeafIssuer(cert, await importSigningKey(key))
    return new CertificateAuthority(cert.toString('pem'), issuer, now)
  }

  /** A fresh CA held only in memory, for tests and one-off tools; nothing is written to disk. */
  static async generate(options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
    const pems = await createCaPems(clockOf(options)())
    return CertificateAuthority.fromPem(pems, options)
  }

  /** The CA certificate that agents must trust, PEM-encoded. */
  get certificatePem(): string {
    return this.#certificatePem
  }

  /**
   * Mints a server certificate for `host` with a fresh key: a DNS SAN for names, an IP SAN for
   * IPv4/IPv6 literals. Costs a few milliseconds; callers cache the result (see `LeafCache`).
   *
   * @throws TollgateError `TOLLGATE_BAD_HOST` when `host` cannot be a certificate name.
   */
  async issueLeaf(host: string): Promise<IssuedLeaf> {
    return createLeafCertificate(parseLeafHost(host), this.#issuer, this.#now())
  }
}

/**
 * Loads the CA from `<stateDir>/ca/`, creating it on first run. Safe to call from several
 * processes at once: exactly one CA is created and every caller ends up with it.
 *
 * @example
 * const ca = await loadOrCreateCa(config.stateDir)
 * const cache = new LeafCache(ca)
 *
 * @throws TollgateError `TOLLGATE_CA_KEY_INSECURE` when the key file is accessible to group or
 *   others (the message says to `chmod 600` it); `TOLLGATE_CA_UNAVAILABLE` for anything else.
 */
export async function loadOrCreateCa(
  stateDir: string,
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthority> {
  const paths = caPaths(stateDir)
  try {
    return await loadOrCreate(paths, options)
  } catch (cause) {
    if (isTollgateError(cause)) throw cause
    throw caUnavailable(`the CA in ${paths.dir} cannot be loaded or created`, cause)
  }
}

async function loadOrCreate(
  paths: CaPaths,
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const existing = await readCaFiles(paths)
  if (existing) return CertificateAuthority.fromPem(existing, options)

  const created = await createCaPems(clockOf(options)())
  if (await writeCaFilesExclusive(paths, created)) {
    return CertificateAuthority.fromPem(created, options)
  }

  return loadAfterLostRace(paths, options)
}

// The winner links its key before it writes the certificate, so for a moment the key can sit
// beside no certificate or beside a stale one. Wait for the pair, bounded.
const RACE_ATTEMPTS = 50
const RACE_DELAY_MS = 20

async function loadAfterLostRace(
  paths: CaPaths,
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  for (let attempt = 1; ; attempt++) {
    try {
      const pems = await readCaFiles(paths)
      if (pems) return await CertificateAuthority.fromPem(pems, options)
    } catch (error) {
      const retryable = isTollgateError(error) && error.code === 'TOLLGATE_CA_UNAVAILABLE'
      if (!retryable || attempt >= RACE_ATTEMPTS) throw error
    }
    await sleep(RACE_DELAY_MS)
  }
}

function clockOf(options: CertificateAuthorityOptions): () => Date {
  return options.now ?? (() => new Date())
}

function parsePrivateKey(keyPem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey(keyPem)
  } catch (cause) {
    throw caUnavailable('the CA key is not a readable PEM private key', cause)
  }

  if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw caUnavailable('the CA key must be an ECDSA P-256 key')
  }
  return key
}

function parseCaCertificate(certPem: string, key: KeyObject, now: Date): x509.X509Certificate {
  const checked = parseCertificate(certPem)
  const matches = checked.checkPrivateKey(key)
  if (!matches) throw caUnavailable('the CA key does not match its certificate')
  if (!checked.ca) throw caUnavailable('the CA certificate is not marked as a CA')

  const cert = new x509.X509Certificate(certPem)
  if (cert.notAfter <= now) {
    const expiry = cert.notAfter.toISOString()
    throw caUnavailable(`the CA certificate expired on ${expiry}; move it away to renew`)
  }
  return cert
}

function parseCertificate(certPem: string): NodeCertificate {
  try {
    return new NodeCertificate(certPem)
  } catch (cause) {
    throw caUnavailable('the CA certificate is not a readable PEM certificate', cause)
  }
}
