import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateCa } from '../../src/relay/tls/certificate-authority.js'

export interface UpstreamTls {
  caPem: string
  cert: string
  key: string
}

/**
 * A test CA, separate from the relay's, and a leaf for 127.0.0.1 signed by it: the relay must
 * be told to trust this CA for the upstream, exactly as an operator would for an internal API.
 */
export async function createUpstreamTls(): Promise<UpstreamTls> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-upstream-ca-'))
  try {
    const ca = await loadOrCreateCa(dir)
    const leaf = await ca.issueLeaf('127.0.0.1')
    return { caPem: ca.certificatePem, cert: leaf.certPem, key: leaf.keyPem }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
