import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Scheme } from '../../config/types.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { refusedCaller, type Caller, type CallerIdentifier } from '../identify.js'
import { singleHeader } from '../http/headers.js'
import { requireStrictRequest } from '../http/strict-framing.js'
import { parseAbsoluteForm } from '../target/absolute-form.js'
import { parseAuthority } from '../target/authority.js'
import { normalisePath } from '../target/path.js'
import { newExchange, type Exchange } from '../exchange/exchange.js'
import { finishExchange } from '../exchange/record.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import type { ListenerDeps } from './listener-deps.js'
import { isBehindClosingAnswer, whenSocketFree } from './pipelining.js'
import { handleClientError, refuseOverloadedConnect } from './client-error.js'
import { httpServerOptions } from './server-options.js'
import { TunnelHandler } from './tunnel.js'
import { handleUpgrade } from './upgrade.js'

/** A forward proxy's HTTP server and the CONNECT handler whose tunnels it opens. */
export interface ForwardProxy {
  server: Server
  tunnels: TunnelHandler
}

/**
 * A forward proxy (absolute-form requests, CONNECT with interception, upgrades, parser errors)
 * that identifies its callers with `identifier`. The shared proxy and every sandbox's private
 * listener are the same server; only how they know the caller differs.
 */
export function createForwardProxy(deps: ListenerDeps, identifier: CallerIdentifier): ForwardProxy {
  const tunnels = new TunnelHandler(deps, identifier)
  const server = createServer(httpServerOptions(deps.upstreams.timeouts))
  server.maxHeadersCount = 0
  const onRequest = (req: IncomingMessage, res: ServerResponse) =>
    handleForwardRequest(deps, identifier, req, res)
  server.on('connection', (socket: Socket) => deps.limits.admitConnection(socket))
  server.on('request', onRequest)
  server.on('checkContinue', onRequest)
  // Node would answer any other expectation with its own bare 417; the relay refuses it itself.
  server.on('checkExpectation', onRequest)
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until the answers to requests pipelined ahead of it are out, the socket is theirs; it
    // needs an error listener while it waits, since Node has handed it over without one.
    socket.on('error', () => socket.destroy())
    whenSocketFree(socket, () => {
      if (deps.limits.admission.isRefused(socket)) refuseOverloadedConnect(deps, req, socket)
      else tunnels.handleConnect(req, socket, head)
    })
  })
  server.on('clientError', (error, socket) => handleClientError(deps, 'forward', error, socket))
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const identify = (ex: Exchange) => identifyForward(deps, identifier, ex)
    handleUpgrade(deps, 'forward', identify, req, socket, head)
  })
  return { server, tunnels }
}

/**
 * Absolute-form `http://` requests sent to a forward proxy. Every request on a keep-alive
 * connection is identified (its own Proxy-Authorization, or its sandbox) and decided on its own.
 */
export function handleForwardRequest(
  deps: ListenerDeps,
  identifier: CallerIdentifier,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (isBehindClosingAnswer(req.socket, res)) return
  const ex = newExchange('forward', req, res, deps.ids.next())
  res.once('close', () => finishExchange(deps, ex))
  deps.limits.watchBody(ex)
  try {
    identifyForward(deps, identifier, ex)
  } catch (error) {
    refuseExchange(deps, ex, error)
    return
  }
  relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
}

export function identifyForward(
  deps: ListenerDeps,
  identifier: CallerIdentifier,
  ex: Exchange,
): void {
  const { req } = ex
  deps.limits.refuseIfOverloaded(req.socket)
  ex.caller = identifyCaller(identifier, ex)
  identifier.track(ex.caller, req.socket, 'connection')
  deps.limits.chargeRequest(ex)
  requireStrictRequest(req, ex.res)

  const target = parseAbsoluteForm(req.url ?? '')
  requireHostAgreement(req.rawHeaders, 'http', target.host, target.port)
  const { path, query } = normalisePath(target.originForm)
  ex.target = { scheme: 'http', host: target.host, port: target.port, method: methodOf(req), path }
  ex.query = query
}

/**
 * The request's caller. A refusal that still names one (a valid token under another agent's
 * name) leaves it on the exchange, for the audit event and the log line only: the refusal
 * propagates, and nothing is tracked or charged to it.
 */
function identifyCaller(identifier: CallerIdentifier, ex: Exchange): Caller {
  try {
    return identifier.identify(ex.req)
  } catch (error) {
    ex.caller = refusedCaller(error)
    throw error
  }
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
