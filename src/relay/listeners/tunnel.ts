import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import type { AuditEventInput } from '../../audit/event.js'
import { TollgateError, isTollgateError } from '../../errors/tollgate-error.js'
import {
  callerAuditFields,
  currentCaller,
  refusedCaller,
  type Caller,
  type CallerIdentifier,
} from '../identify.js'
import { sendDetachedError } from '../http/error-response.js'
import { requireStrictRequest } from '../http/strict-framing.js'
import { parseAuthority, type Authority } from '../target/authority.js'
import { normalisePath } from '../target/path.js'
import { createInterceptionTls } from '../tls/sni-callback.js'
import { newExchange, type Exchange } from '../exchange/exchange.js'
import { refusalEventType } from '../exchange/outcome.js'
import { finishExchange } from '../exchange/record.js'
import { errorName } from '../exchange/response-relay.js'
import { refuseExchange, relayExchange } from '../exchange/run.js'
import type { Decision } from '../../policy/request-target.js'
import type { ListenerDeps } from './listener-deps.js'
import { openOpaqueTunnel } from './opaque-tunnel.js'
import { isBehindClosingAnswer } from './pipelining.js'
import { methodOf, requireHostAgreement } from './forward-proxy.js'
import { httpServerOptions } from './server-options.js'
import { handleUpgrade } from './upgrade.js'
import { handleClientError, refuseMisplacedConnect } from './client-error.js'
import { detachedOutcome, recordDetachedRefusal } from './refusal-log.js'

/** What is known about a CONNECT so far, so a refusal can say who asked for what. */
interface ConnectAttempt {
  id: string
  caller: Caller | null
  target: Authority | null
  /** The rule that refused the CONNECT, shown in the 403 and recorded. */
  rule: string | null
}

interface Tunnel extends Authority {
  caller: Caller
  sniMatches: boolean
}

/**
 * CONNECT tunnels with TLS interception, or spliced unread where an opaque-tunnel rule allows
 * it (see `opaque-tunnel.ts`). The tunnel is opened only to a host the agent's policy may
 * reach; inside it the relay terminates TLS with a leaf from its own CA and hands each
 * request to an internal HTTP server, so every request in the tunnel (keep-alive and pipelined
 * ones too) is identified, decided, recorded and injected on its own.
 */
export class TunnelHandler {
  #deps: ListenerDeps
  #identifier: CallerIdentifier
  #inner: Server
  #tunnels = new WeakMap<Duplex, Tunnel>()

  constructor(deps: ListenerDeps, identifier: CallerIdentifier) {
    this.#deps = deps
    this.#identifier = identifier
    this.#inner = createServer(httpServerOptions(deps.upstreams.timeouts))
    this.#inner.maxHeadersCount = 0
    this.#inner.on('request', (req, res) => this.#handleInner(req, res))
    this.#inner.on('checkContinue', (req, res) => this.#handleInner(req, res))
    this.#inner.on('checkExpectation', (req, res) => this.#handleInner(req, res))
    this.#inner.on('connect', (req: IncomingMessage, socket: Duplex) => {
      refuseMisplacedConnect(deps, 'tunnel', req, socket, this.#callerOf(socket))
    })
    this.#inner.on('clientError', (error, socket) =>
      handleClientError(deps, 'tunnel', error, socket),
    )
    this.#inner.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(deps, 'tunnel', (ex) => this.#identifyInner(ex), req, socket, head),
    )
  }

  /** Handles `CONNECT host:port`. Errors before the 200 are answered on the raw socket. */
  handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node hands the socket over without an error listener: a client reset would otherwise be
    // an uncaught exception that takes the whole relay down.
    socket.on('error', () => socket.destroy())
    const attempt: ConnectAttempt = {
      id: this.#deps.ids.next(),
      caller: null,
      target: null,
      rule: null,
    }
    this.#openTunnel(req, socket, head, attempt).catch((error: unknown) => {
      this.#refuseConnect(req, socket, attempt, error)
    })
  }

  /** Stops handing new tunnels to the inner server; open ones end with their sockets. */
  close(): void {
    this.#inner.close()
  }

  async #openTunnel(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    attempt: ConnectAttempt,
  ): Promise<void> {
    const deps = this.#deps
    const caller = this.#identifier.identify(req)
    attempt.caller = caller
    const target = parseAuthority(req.url ?? '', 'https', true)
    attempt.target = target
    const { engine } = deps.state.current
    const connect = engine.decideConnect(caller.agent, target.host, target.port, caller.overlay)
    if (connect.kind === 'refuse') {
      attempt.rule = connect.decision.rule?.id ?? null
      throw connectDenial(connect.decision)
    }
    if (connect.kind === 'opaque') {
      const client = req.socket.remoteAddress ?? null
      const request = { id: attempt.id, caller, target, decision: connect.decision, client }
      await openOpaqueTunnel(deps, this.#identifier, socket, head, request)
      return
    }

    const tls = await createInterceptionTls(deps.leaves, target.host)
    this.#identifier.track(caller, socket, 'tunnel')
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    // Bytes the client sent ahead of our 200 (its ClientHello) belong to the TLS stream.
    if (head.length > 0) socket.unshift(head)

    const secure = new TLSSocket(socket, tls.options)
    const tunnel: Tunnel = { ...target, caller, sniMatches: true }
    this.#tunnels.set(secure, tunnel)
    this.#track(secure, socket)
    let handshaken = false
    let failure: string | null = null
    secure.once('secure', () => {
      handshaken = true
      tunnel.sniMatches = tls.sniMatchesTarget()
    })
    secure.on('error', (error: Error) => {
      failure ??= errorName(error)
      socket.destroy()
    })
    // A client that rejects the relay's certificate often just hangs up (TLS 1.3), with no
    // alert and so no error here: a tunnel closed before its handshake is the failure.
    secure.once('close', () => {
      if (!handshaken) this.#recordTlsFailure(req, attempt, failure ?? 'closed during handshake')
    })
    this.#inner.emit('connection', secure)
  }

  /**
   * An agent whose TLS client does not trust the relay's CA (or that speaks no TLS at all)
   * fails here, after the CONNECT was allowed and before any request: without this event the
   * operator would see an allowed tunnel and nothing more.
   */
  #recordTlsFailure(req: IncomingMessage, attempt: ConnectAttempt, reason: string): void {
    void this.#deps.audit.recordQuietly({
      ...this.#connectEvent(req, attempt),
      type: 'tunnel.tls_failed',
      decision: 'error',
      detail: { reason },
    })
  }

  /** What every audit event about a CONNECT says: who asked, from where, for which target. */
  #connectEvent(req: IncomingMessage, attempt: ConnectAttempt) {
    const { id, caller, target } = attempt
    return {
      request_id: id,
      ...callerAuditFields(caller),
      client: req.socket.remoteAddress ?? null,
      method: 'CONNECT',
      scheme: 'https',
      host: target?.host ?? null,
      port: target?.port ?? null,
      policy_version: this.#deps.state.current.version,
    }
  }

  #track(secure: TLSSocket, raw: Duplex): void {
    const { metrics, upstreams } = this.#deps
    metrics.tunnelOpened()
    ;(raw as Socket).setTimeout(upstreams.timeouts.idleMs, () => raw.destroy())
    raw.once('close', () => {
      metrics.tunnelClosed()
      secure.destroy()
    })
  }

  #handleInner(req: IncomingMessage, res: ServerResponse): void {
    const deps = this.#deps
    if (isBehindClosingAnswer(req.socket, res)) return
    const ex = newExchange('tunnel', req, res, deps.ids.next())
    deps.limits.watchBody(ex)
    res.once('close', () => finishExchange(deps, ex))
    try {
      this.#identifyInner(ex)
    } catch (error) {
      refuseExchange(deps, ex, error)
      return
    }
    relayExchange(deps, ex).catch((error: unknown) => refuseExchange(deps, ex, error))
  }

  #identifyInner(ex: Exchange): void {
    const tunnel = this.#tunnels.get(ex.req.socket)
    if (!tunnel) throw new TollgateError('TOLLGATE_INTERNAL')
    const current = this.#refreshCaller(tunnel)
    // A refusal of a caller that may no longer send requests names the one last seen.
    ex.caller = current ?? tunnel.caller
    ex.target = { scheme: 'https', host: tunnel.host, port: tunnel.port, method: 'GET', path: '/' }
    ex.target.method = methodOf(ex.req)
    if (current === null) this.#refuseStaleCaller(ex)

    try {
      requireStrictRequest(ex.req, ex.res)
      readInnerTarget(ex, tunnel)
    } finally {
      // Charged once the path is read, so a refusal names it; charged even when it cannot be
      // read, so malformed requests draw on the agent's rate too.
      this.#deps.limits.chargeRequest(ex)
    }
  }

  /**
   * The tunnel's caller as the configuration in force sees it, looked up for every request
   * because a tunnel may outlive many reloads: an agent moved to another owner or team is
   * recorded under the new one. Null when the caller may no longer send requests: its token
   * revoked or expired, its sandbox stopped, its agent removed.
   */
  #refreshCaller(tunnel: Tunnel): Caller | null {
    if (!this.#identifier.isLive(tunnel.caller)) return null
    const current = currentCaller(tunnel.caller, this.#deps.state.current.directory)
    if (current !== null) tunnel.caller = current
    return current
  }

  /**
   * A caller cut off while its tunnel is open stops working at the very next request, with the
   * code a new request would get, and the tunnel is closed behind the refusal.
   */
  #refuseStaleCaller(ex: Exchange): never {
    ex.res.shouldKeepAlive = false
    ex.res.once('finish', () => ex.req.socket.destroy())
    throw new TollgateError('TOLLGATE_AUTH_INVALID')
  }

  /** Who a tunnel's socket belongs to, for a refusal: as now configured, else as last seen. */
  #callerOf(socket: Duplex): Caller | null {
    const tunnel = this.#tunnels.get(socket)
    if (!tunnel) return null
    return this.#refreshCaller(tunnel) ?? tunnel.caller
  }

  #refuseConnect(req: IncomingMessage, socket: Duplex, attempt: ConnectAttempt, error: unknown) {
    const failure = isTollgateError(error) ? error : new TollgateError('TOLLGATE_INTERNAL')
    if (!isTollgateError(error)) this.#deps.logger.error({ err: error }, 'connect failed')
    // A valid token under another agent's name is refused all the same, but on record as its own.
    attempt.caller ??= refusedCaller(error)
    const { id, caller, target, rule } = attempt
    const body = { code: failure.code, message: failure.publicMessage, requestId: id, rule }
    sendDetachedError(socket, body)
    const outcome = detachedOutcome(failure.code)
    const event: AuditEventInput = {
      ...this.#connectEvent(req, attempt),
      type: refusalEventType(outcome),
      path: null,
      decision: outcome,
      code: failure.code,
      rule,
    }
    recordDetachedRefusal(this.#deps, event, {
      requestId: id,
      code: failure.code,
      listener: 'forward',
      caller,
      method: 'CONNECT',
      host: target?.host,
      port: target?.port,
      rule,
    })
  }
}

/** The inner request's path, once it is known to be for the tunnel's host. */
function readInnerTarget(ex: Exchange, tunnel: Tunnel): void {
  if (!tunnel.sniMatches) throw new TollgateError('TOLLGATE_MISDIRECTED')
  const url = ex.req.url ?? ''
  if (!url.startsWith('/')) throw new TollgateError('TOLLGATE_MALFORMED_REQUEST')
  requireSameHost(ex.req.rawHeaders, tunnel)
  const { path, query } = normalisePath(url)
  if (ex.target) ex.target.path = path
  ex.query = query
}

/** The refusal of a CONNECT policy decided against, naming the rule when one decided. */
function connectDenial(decision: Decision): TollgateError {
  const rule = decision.rule?.id
  if (rule === undefined) {
    return new TollgateError('TOLLGATE_POLICY_NO_MATCH', 'no rule lets this agent reach that host')
  }
  if (decision.code === 'TOLLGATE_POLICY_NO_MATCH') {
    return new TollgateError('TOLLGATE_POLICY_NO_MATCH', `refused by the sandbox ${rule}`)
  }
  return new TollgateError('TOLLGATE_POLICY_DENIED', `denied by policy rule ${rule}`)
}

/** Inside a tunnel the `Host` header must name the CONNECT target (else 421). */
function requireSameHost(rawHeaders: string[], tunnel: Tunnel): void {
  try {
    requireHostAgreement(rawHeaders, 'https', tunnel.host, tunnel.port)
  } catch (error) {
    if (isTollgateError(error) && error.code === 'TOLLGATE_AMBIGUOUS_TARGET') {
      throw new TollgateError('TOLLGATE_MISDIRECTED')
    }
    throw error
  }
}
