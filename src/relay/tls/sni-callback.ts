import type { SecureContext, TLSSocketOptions } from 'node:tls'

import { isTollgateError } from '../../errors/tollgate-error.js'
import type { LeafCache } from './leaf-cache.js'
import { leafHostKey } from './leaf-host.js'

/** Node's callback shape for `SNICallback`. */
export type SniCallback = (
  servername: string,
  callback: (error: Error | null, context?: SecureContext) => void,
) => void

/** An `SNICallback` that remembers the name the client asked for. */
export interface SniTracker {
  readonly SNICallback: SniCallback
  /** The SNI name the client sent, lower-cased; null before the handshake or when none was sent. */
  readonly getServername: () => string | null
}

/** Everything the relay needs to terminate TLS inside one CONNECT tunnel. */
export interface InterceptionTls extends SniTracker {
  /** Options for `new tls.TLSSocket(socket, options)`. */
  readonly options: TLSSocketOptions
  /**
   * Whether the client's SNI names the CONNECT target. True when no SNI was sent: the client
   * then verified the target's own certificate. When false, answer `TOLLGATE_MISDIRECTED`.
   */
  readonly sniMatchesTarget: () => boolean
}

/**
 * An `SNICallback` backed by the leaf cache. With `expectedHost` (the CONNECT target) every
 * client gets that host's certificate whatever SNI it sends, so an agent cannot make the relay
 * mint certificates for names policy never approved; a client whose SNI differs then fails its
 * own hostname check. Without `expectedHost` the SNI name itself is served.
 *
 * Node calls `SNICallback` only when the client sends SNI; see `createInterceptionTls` for the
 * default context that covers clients which send none (as for IP literals).
 */
export function createSniCallback(cache: LeafCache, expectedHost?: string): SniTracker {
  let servername: string | null = null

  const SNICallback: SniCallback = (name, callback) => {
    servername = name.toLowerCase()
    cache.getSecureContext(expectedHost ?? servername).then(
      (context) => callback(null, context),
      (error: unknown) => callback(error instanceof Error ? error : new Error('SNI lookup failed')),
    )
  }

  return { SNICallback, getServername: () => servername }
}

/**
 * TLS server options for a tunnel to `connectHost`: the target's certificate as the default
 * context and for every SNI name, SNI recorded for the misdirection check, and ALPN offering
 * only `http/1.1`, because HTTP/2 inside a tunnel is not governed yet.
 *
 * @example
 * const tls = await createInterceptionTls(cache, target.host)
 * const socket = new TLSSocket(clientSocket, tls.options)
 * socket.once('secure', () => { if (!tls.sniMatchesTarget()) refuseMisdirected(socket) })
 *
 * @throws TollgateError `TOLLGATE_BAD_HOST` when `connectHost` cannot be a certificate name.
 */
export async function createInterceptionTls(
  cache: LeafCache,
  connectHost: string,
): Promise<InterceptionTls> {
  const secureContext = await cache.getSecureContext(connectHost)
  const { SNICallback, getServername } = createSniCallback(cache, connectHost)

  return {
    SNICallback,
    getServername,
    options: { isServer: true, secureContext, SNICallback, ALPNProtocols: ['http/1.1'] },
    sniMatchesTarget: () => isSameHost(getServername(), connectHost),
  }
}

function isSameHost(servername: string | null, connectHost: string): boolean {
  if (servername === null) return true
  try {
    return leafHostKey(servername) === leafHostKey(connectHost)
  } catch (error) {
    if (isTollgateError(error)) return false
    throw error
  }
}
