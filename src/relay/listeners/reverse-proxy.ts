import type { IncomingMessage, ServerResponse } from 'node:http'
import { TollgateError } from '../../errors/tollgate-error.js'
import type { RouteConfig, Scheme } from '../../config/types.js'
import { defaultPort } from '../../policy/request-target.js'
import { authenticate, parseApiKeyToken } from '../identify.js'
import { singleHeader } from '../http/headers.js'
import { requireStrictRequest } from '../http/strict-framing.js'
import { canonicalHost } from '../target/host.js'
import { normalisePath } from '../target/path.js'
import { newExchange, type Exchange } from '../exchange/exchange.js'
import { finishExchange } from '../exchange/record.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import type { ListenerDeps } from './listener-deps.js'
import { methodOf } from './forward-proxy.js'
import { isBehindClosingAnswer } from './pipelining.js'

/**
 * The headers an SDK puts its API key in. On a reverse route they carry the agent's Tollgate
 * token, and are never forwarded: the real credential, if the rule names one, replaces them.
 */
const TOKEN_HEADERS: ReadonlySet<string> = new Set(['authorization', 'x-api-key'])

/**
 * `/<route>/rest` on the reverse listener, for SDKs that take a base URL. The upstream origin
 * comes from the route; the agent only supplies the rest of the path, normalised on its own so
 * it can neither climb out of the route's base path nor name another host.
 */
export function handleReverseRequest(
  deps: ListenerDeps,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (isBehindClosingAnswer(req.socket, res)) return
  const ex = newExchange('reverse', req, res, deps.ids.next())
  res.once('close', () => finishExchange(deps, ex))
  deps.limits.watchBody(ex)
  try {
    identifyReverse(deps, ex)
  } catch (error) {
    refuseExchange(deps, ex, error)
    return
  }
  relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
}

export function identifyReverse(deps: ListenerDeps, ex: Exchange): void {
  const { req } = ex
  ex.dropHeaders = TOKEN_HEADERS
  deps.limits.refuseIfOverloaded(req.socket)
  const credentials = reverseCredentials(req.rawHeaders)
  const caller = authenticate(credentials, deps.tokens, deps.state.current.directory)
  ex.caller = caller
  deps.connections.track(caller.tokenId, caller.agent, req.socket, 'connection')
  deps.limits.chargeRequest(ex)
  requireStrictRequest(req, ex.res)

  const { route, rest } = splitRoute(req.url ?? '')
  const config = deps.state.current.routes.get(route)
  if (!config) throw new TollgateError('TOLLGATE_UNKNOWN_ROUTE')
  const upstream = parseUpstream(config)
  const { path, query } = normalisePath(rest)
  ex.target = { ...upstream, method: methodOf(req), path: joinPath(upstream.basePath, path) }
  ex.query = query
}

/**
 * The agent's token, from whichever API-key header its SDK sends. A request may carry both
 * headers only with the same token in each: two different ones name two callers, and
 * deciding and recording for one of them, silently, is the guess that ambiguity must not get.
 *
 * @throws TollgateError `TOLLGATE_AMBIGUOUS_TARGET` for two tokens (or a header twice),
 *   `TOLLGATE_AUTH_REQUIRED` for none
 */
export function reverseCredentials(rawHeaders: string[]): ReturnType<typeof parseApiKeyToken> {
  const authorization = singleHeader(rawHeaders, 'authorization')
  const apiKey = singleHeader(rawHeaders, 'x-api-key')
  const credentials = parseApiKeyToken(authorization, apiKey)
  if (authorization !== null && apiKey !== null && bearerOf(authorization) !== credentials.token) {
    throw new TollgateError(
      'TOLLGATE_AMBIGUOUS_TARGET',
      'Authorization and X-Api-Key carry different tokens',
    )
  }
  return credentials
}

function bearerOf(authorization: string): string | null {
  try {
    return parseApiKeyToken(authorization, null).token
  } catch {
    return null
  }
}

function splitRoute(url: string): { route: string; rest: string } {
  const match = /^\/([a-z0-9][a-z0-9-]*)(\/.*|\?.*)?$/.exec(url)
  if (!match?.[1]) throw new TollgateError('TOLLGATE_UNKNOWN_ROUTE')
  const rest = match[2] ?? '/'
  return { route: match[1], rest: rest.startsWith('?') ? '/' + rest : rest }
}

interface Upstream {
  scheme: Scheme
  host: string
  port: number
  basePath: string
}

function parseUpstream(route: RouteConfig): Upstream {
  const url = new URL(route.upstream)
  const scheme = url.protocol === 'https:' ? 'https' : 'http'
  return {
    scheme,
    host: canonicalHost(url.hostname),
    port: url.port === '' ? defaultPort(scheme) : Number(url.port),
    basePath: url.pathname.replace(/\/+$/, ''),
  }
}

function joinPath(basePath: string, rest: string): string {
  if (basePath === '') return rest
  return rest === '/' ? basePath : basePath + rest
}
