import type { SecureContext, TLSSocketOptions } from 'node:tls'

import { isTollgateError } from '../../errors/tollgate-error.js'
import type { LeafCache } from './leaf-cache.js'
import { leafHostKey } from './leaf-host.js'

/** Node's callback shape for `SNICallback`. */
export type SniCallback = (
  servername: string,
  callback: (error: Error | null, context?: SecureContext) => void,
) => void

/** An `SNICallback` for one tunnel, which remembers the name the client asked for. */
export interface SniTracker {
  readonly SNICallback: SniCallback
  /** The SNI name the client sent, lower-cased; null before the handshake or when none was sent. */
  getServername(): string | null
}

/** Everything the relay needs to terminate TLS inside one CONNECT tunnel. */
export interface InterceptionTls extends SniTracker {
  /** Options for `new tls.TLSSocket(socket, options)`. */
  readonly options: TLSSocketOptions
  /**
   * Whether the client's SNI names the CONNECT target. True when no SNI was sent: the client
   * then received the target's own certificate. When false, answer `TOLLGATE_MISDIRECTED`.
   */
  sniMatchesTarget(): boolean
}

/**
 * An `SNICallback` that serves the cached leaf for whatever name the client sends, so a
 * mismatching client still completes the handshake and can be told why it is refused (421)
 * instead of seeing a bare certificate error. Node calls it only when the client sends SNI.
 */
export function createSniCallback(cache: LeafCache): SniTracker {
  let servername: string | null = null

  const SNICallback: SniCallback = (name, callback) => {
    servername = name.toLowerCase()
    cache.getSecureContext(servername).then(
      (context) => callback(null, context),
      (error: unknown) => callback(error instanceof Error ? error : new Error('SNI lookup failed')),
    )
  }

  return { SNICallback, getServername: () => servername }
}

/**
 * TLS server options for a tunnel to `connectHost`. The target's own context is the default,
 * because Node consults `SNICallback` only when the client sends SNI, and clients send none
 * for IP literals. ALPN offers only `http/1.1`: HTTP/2 inside a tunnel is not governed yet.
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
  const tracker = createSniCallback(cache)

  const { SNICallback } = tracker

  return {
    ...tracker,
    options: { isServer: true, secureContext, SNICallback, ALPNProtocols: ['http/1.1'] },
    sniMatchesTarget: () => isSameHost(tracker.getServername(), connectHost),
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
