import { PassThrough, type Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { Dispatcher } from 'undici'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { HeaderMap } from '../http/headers.js'
import { formatAuthorityHost } from '../target/host.js'
import type { Exchange, RelayDeps } from './exchange.js'
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
  scrub: Buffer[],
): void {
  const target = ex.target
  if (!target) throw new TollgateError('TOLLGATE_INTERNAL')
  const { timeouts } = deps.upstreams
  outgoing.headers.host = authorityOf(target.scheme, target.host, target.port)

  const options: Dispatcher.DispatchOptions = {
    origin: `${target.scheme}://${formatAuthorityHost(target.host)}:${target.port}`,
    path: outgoing.pathAndQuery,
    method: target.method,
    headers: outgoing.headers,
    body: hasBody(ex.req) ? countedBody(ex) : null,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  }
  const dispatcher = deps.upstreams.dispatcherFor(target.host, ex.decision?.addresses ?? null)
  dispatcher.dispatch(options, new ResponseRelay(ex, scrub))
}

/** The `Host` header value for a canonical target: the port only when it is not the default. */
export function authorityOf(scheme: string, host: string, port: number): string {
  const implicit = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
  return implicit ? formatAuthorityHost(host) : `${formatAuthorityHost(host)}:${port}`
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** Streams the agent's body upstream as it arrives, counting bytes for the audit record. */
function countedBody(ex: Exchange): Readable {
  const counter = new PassThrough()
  counter.on('data', (chunk: Buffer) => {
    ex.bytesIn += chunk.length
  })
  counter.pause()
  ex.req.pipe(counter)
  ex.req.once('aborted', () => counter.destroy(new Error('agent aborted the request body')))
  return counter
}
