import { X509Certificate } from 'node:crypto'
import { rootCertificates } from 'node:tls'

import { TollgateError } from '../../errors/tollgate-error.js'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * The trust list for an upstream connection: Node's bundled root certificates plus `extraPems`.
 * Passing `ca` to a TLS connection replaces the default roots, so an upstream's own CA option
 * would otherwise silently stop every public certificate from verifying.
 *
 * Each entry of `extraPems` may hold several certificates; every one must parse. Note that
 * `NODE_EXTRA_CA_CERTS` is not part of `tls.rootCertificates` on Node 20 and is not included.
 *
 * @example
 * new Agent({ connect: { ca: buildUpstreamCa([upstream.caPem]) } })
 *
 * @throws TollgateError `TOLLGATE_CONFIG_INVALID` when an entry holds no readable certificate.
 */
export function buildUpstreamCa(extraPems: string[]): string[] {
  const extras = extraPems.flatMap((pem, index) => splitCertificates(pem, index))
  return [...rootCertificates, ...extras]
}

function splitCertificates(pem: string, index: number): string[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) throw invalidCa(index)

  for (const block of blocks) assertCertificate(block, index)
  return blocks
}

function assertCertificate(block: string, index: number): void {
  try {
    new X509Certificate(block)
  } catch (cause) {
    throw invalidCa(index, cause)
  }
}

function invalidCa(index: number, cause?: unknown): TollgateError {
  const message = `upstream CA entry ${index} holds no readable PEM certificate`
  return new TollgateError('TOLLGATE_CONFIG_INVALID', message, { cause, expose: false })
}
