import { PassThrough, Transform, type Readable } from 'node:stream'
import { Scrubber } from '../../secrets/scrubber.js'
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
  strayPlaceholders: readonly string[] = [],
): void {
  const { timeouts } = deps.upstreams
  const upstream = prepareUpstream(deps, ex, outgoing)
  const options: Dispatcher.DispatchOptions = {
    origin: upstream.origin,
    path: outgoing.pathAndQuery,
    method: upstream.target.method,
    headers: outgoing.headers,
    body: hasBody(ex.req) ? countedBody(ex, strayPlaceholders) : null,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  }
  upstream.dispatcher.dispatch(options, new ResponseRelay(ex, scrub))
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

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Streams the agent's body upstream as it arrives, counting bytes for the audit record. Where
 * placeholders of credentials not bound to this host exist, the body is watched for them: the
 * bytes that could start one are held back, and a full one aborts the request before it is
 * sent (an exfiltration attempt, answered 403 like a placeholder in a header).
 */
function countedBody(ex: Exchange, stray: readonly string[]): Readable {
  const body = stray.length === 0 ? new PassThrough() : placeholderWatch(stray)
  body.on('data', (chunk: Buffer) => {
    ex.bytesIn += chunk.length
  })
  body.pause()
  ex.req.pipe(body)
  ex.req.once('aborted', () => body.destroy(new Error('agent aborted the request body')))
  return body
}

// TODO(#3): placeholders are only detected in bodies, not swapped: a placeholder bound to
// this host reaches the upstream as sent. Compressed request bodies are not inspected.
function placeholderWatch(stray: readonly string[]): Transform {
  const watcher = new Scrubber(stray)
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const out = watcher.push(chunk)
      if (watcher.replacements > 0) return done(misuse())
      done(null, out)
    },
    flush(done) {
      done(null, watcher.end())
    },
  })
}

function misuse(): TollgateError {
  return new TollgateError(
    'TOLLGATE_PLACEHOLDER_MISUSE',
    'the request body carries a credential placeholder not bound to this host',
  )
}
