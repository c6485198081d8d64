import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Scheme } from '../../config/types.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { authenticate, parseProxyAuthorization } from '../identify.js'
import { singleHeader } from '../http/headers.js'
import { parseAbsoluteForm } from '../target/absolute-form.js'
import { parseAuthority } from '../target/authority.js'
import { normalisePath } from '../target/path.js'
import { newExchange, type Exchange } from '../exchange/exchange.js'
import { finishExchange } from '../exchange/record.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import type { ListenerDeps } from './listener-deps.js'

/**
 * Absolute-form `http://` requests sent to the forward proxy. Every request on a keep-alive
 * connection carries its own Proxy-Authorization and is decided on its own.
 */
export function handleForwardRequest(
  deps: ListenerDeps,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const ex = newExchange('forward', req, res, deps.ids.next())
  res.once('close', () => finishExchange(deps, ex))
  try {
    identifyForward(deps, ex)
  } catch (error) {
    refuseExchange(deps, ex, error)
    return
  }
  relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
}

export function identifyForward(deps: ListenerDeps, ex: Exchange): void {
  const { req } = ex
  const credentials = parseProxyAuthorization(singleHeader(req.rawHeaders, 'proxy-authorization'))
  ex.caller = authenticate(credentials, deps.tokens, deps.state.current.directory)
  deps.connections.track(ex.caller.tokenId, ex.caller.agent, req.socket)

  const target = parseAbsoluteForm(req.url ?? '')
  requireHostAgreement(req.rawHeaders, 'http', target.host, target.port)
  const { path, query } = normalisePath(target.originForm)
  ex.target = { scheme: 'http', host: target.host, port: target.port, method: methodOf(req), path }
  ex.query = query
}

/**
 * The absolute-form authority and `Host` must name the same place: an upstream that trusts
 * `Host` would otherwise serve a host the decision never saw.
 */
export function requireHostAgreement(
  rawHeaders: string[],
  scheme: Scheme,
  host: string,
  port: number,
): void {
  const header = singleHeader(rawHeaders, 'host')
  if (header === null) return
  const stated = parseAuthority(header, scheme)
  if (stated.host !== host || stated.port !== port) {
    throw new TollgateError(
      'TOLLGATE_AMBIGUOUS_TARGET',
      'the Host header disagrees with the target',
    )
  }
}

export function methodOf(req: IncomingMessage): string {
  const method = req.method ?? ''
  if (!/^[A-Z]+$/.test(method)) throw new TollgateError('TOLLGATE_MALFORMED_REQUEST')
  return method
}
