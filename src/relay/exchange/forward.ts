import type { Dispatcher } from 'undici'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { HeaderMap } from '../http/headers.js'
import { formatAuthorityHost } from '../target/host.js'
import type { Exchange, RelayDeps } from './exchange.js'
import { streamBody, type RequestBody } from './request-body.js'
import { ResponseRelay } from './response-relay.js'

/** The request as it will leave: headers already stripped of hop-by-hop and agent tokens. */
export interface Outgoing {
  headers: HeaderMap
  pathAndQuery: string
}

/**
 * Step 8: sends the decided request upstream over a pooled connection and streams the response
 * back. The origin is built from the canonical target, never from anything the agent sent, so
 * what leaves is exactly what was decided on.
 */
export function forwardExchange(
  deps: RelayDeps,
  ex: Exchange,
  outgoing: Outgoing,
  scrub: readonly string[],
  body: RequestBody | null,
): void {
  const { timeouts } = deps.upstreams
  const { decodedResponseBytes } = deps.state.current.loaded.config.server.limits
  const upstream = prepareUpstream(deps, ex, outgoing)
  const options: Dispatcher.DispatchOptions = {
    origin: upstream.origin,
    path: outgoing.pathAndQuery,
    method: upstream.target.method,
    headers: outgoing.headers,
    body: body === null ? null : (body.buffered ?? streamBody(ex, body, outgoing.headers)),
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  }
  const relay = new ResponseRelay(ex, scrub, decodedResponseBytes)
  upstream.dispatcher.dispatch(options, relay)
}

/**
 * What every request that leaves needs, plain or upgrade: the origin and `Host` built from the
 * canonical target (never from what the agent sent), the pool for the allowing rule's address
 * allowance, and the mark that the exchange went upstream (so its outcome is a completion).
 */
export function prepareUpstream(deps: RelayDeps, ex: Exchange, outgoing: Outgoing) {
  const target = ex.target
  if (!target) throw new TollgateError('TOLLGATE_INTERNAL')
  outgoing.headers.host = authorityOf(target.scheme, target.host, target.port)
  ex.forwarded = true
  return {
    target,
    origin: `${target.scheme}://${formatAuthorityHost(target.host)}:${target.port}`,
    dispatcher: deps.upstreams.dispatcherFor(target.host, ex.decision?.addresses ?? null),
  }
}

/** The `Host` header value for a canonical target: the port only when it is not the default. */
function authorityOf(scheme: string, host: string, port: number): string {
  const implicit = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
  return implicit ? formatAuthorityHost(host) : `${formatAuthorityHost(host)}:${port}`
}
