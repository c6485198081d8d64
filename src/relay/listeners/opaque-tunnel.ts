import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { AuditDecision, AuditEventInput, AuditEventType } from '../../audit/event.js'
import { ERRORS, type ErrorCode } from '../../errors/codes.js'
import { TollgateError, isTollgateError } from '../../errors/tollgate-error.js'
import type { Decision } from '../../policy/request-target.js'
import { upstreamCode, upstreamErrorDetail } from '../exchange/response-relay.js'
import { sendDetachedError } from '../http/error-response.js'
import { callerAuditFields, type Caller, type CallerIdentifier } from '../identify.js'
import type { Authority } from '../target/authority.js'
import type { ListenerDeps } from './listener-deps.js'

/** An allowed `CONNECT host:port` that an opaque-tunnel rule lets through unread. */
export interface OpaqueTunnelRequest {
  id: string
  caller: Caller
  target: Authority
  /** `allow` or `would_deny`, from an opaque-tunnel rule. */
  decision: Decision
  client: string | null
}

/** What is known about the tunnel as it runs, for its audit events and log line. */
interface TunnelState extends OpaqueTunnelRequest {
  version: string
  startedAt: number
  bytesIn: number
  bytesOut: number
  code: ErrorCode | null
  upstreamError: string | null
  address: string | null
}

/**
 * Opens an opaque tunnel: counts it against the caller's tunnel cap, records the decision
 * durably (no audit, no egress), dials the destination through the relay's destination checks,
 * answers 200 and splices the two sockets. The relay never reads the bytes; it counts them each
 * way and records them, with the duration, when the tunnel closes. Revoking the caller or
 * stopping its sandbox destroys the client socket, which takes the upstream one with it.
 *
 * Throws (before anything is recorded) for the caller to answer: a cap reached, the audit
 * trail unavailable. Failures after the decision is recorded are answered and recorded here.
 */
export async function openOpaqueTunnel(
  deps: ListenerDeps,
  identifier: CallerIdentifier,
  socket: Duplex,
  head: Buffer,
  request: OpaqueTunnelRequest,
): Promise<void> {
  const tunnel = startState(deps, request)
  identifier.track(request.caller, socket, 'tunnel')

  await deps.audit.record(tunnelEvent(tunnel, 'request.decided')).catch((cause: unknown) => {
    deps.metrics.auditFailed()
    throw new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', undefined, { cause })
  })

  let upstream: Socket
  try {
    const { host, port } = request.target
    upstream = await deps.upstreams.connectRaw(host, port, request.decision.addresses ?? null)
  } catch (error) {
    failTunnel(deps, socket, tunnel, error)
    return
  }
  splice(deps, socket, upstream, head, tunnel)
}

function startState(deps: ListenerDeps, request: OpaqueTunnelRequest): TunnelState {
  return {
    ...request,
    version: deps.state.current.version,
    startedAt: performance.now(),
    bytesIn: 0,
    bytesOut: 0,
    code: null,
    upstreamError: null,
    address: null,
  }
}

/** The destination was refused or unreachable: answered on the raw socket, recorded as such. */
function failTunnel(deps: ListenerDeps, socket: Duplex, tunnel: TunnelState, error: unknown) {
  const failure = error instanceof Error ? error : new Error(String(error))
  tunnel.code = upstreamCode(failure)
  tunnel.upstreamError = upstreamErrorDetail(failure)

  const message = isTollgateError(failure) ? failure.publicMessage : ERRORS[tunnel.code].message
  const rule = tunnel.decision.rule?.id ?? null
  sendDetachedError(socket, { code: tunnel.code, message, requestId: tunnel.id, rule })
  finishTunnel(deps, tunnel)
}

function splice(
  deps: ListenerDeps,
  socket: Duplex,
  upstream: Socket,
  head: Buffer,
  tunnel: TunnelState,
): void {
  tunnel.address = upstream.remoteAddress ?? null
  // The client may have been cut (revoked, sandbox stopped) while the destination was dialled.
  if (socket.destroyed) {
    upstream.destroy()
    finishTunnel(deps, tunnel)
    return
  }
  deps.metrics.tunnelOpened()
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')

  // Bytes the client sent ahead of our 200 are the first bytes of its protocol.
  if (head.length > 0) {
    tunnel.bytesIn += head.length
    upstream.write(head)
  }
  socket.on('data', (chunk: Buffer) => (tunnel.bytesIn += chunk.length))
  upstream.on('data', (chunk: Buffer) => (tunnel.bytesOut += chunk.length))
  socket.pipe(upstream)
  upstream.pipe(socket)

  joinLifetimes(deps, socket, upstream, tunnel)
}

/**
 * Either side going away ends the tunnel. When the destination closes, what it sent is flushed
 * to the client first; when the client goes (or is cut), the destination is dropped at once.
 * The tunnel is recorded once both sockets are closed.
 */
function joinLifetimes(deps: ListenerDeps, socket: Duplex, upstream: Socket, tunnel: TunnelState) {
  const { idleMs } = deps.upstreams.timeouts
  ;(socket as Socket).setTimeout(idleMs, () => socket.destroy())
  upstream.on('error', () => upstream.destroy())

  let open = 2
  const closed = () => {
    if (--open > 0) return
    deps.metrics.tunnelClosed()
    finishTunnel(deps, tunnel)
  }
  socket.once('close', () => {
    upstream.destroy()
    closed()
  })
  upstream.once('close', () => {
    socket.end(() => socket.destroy())
    closed()
  })
}

/** The completion event (bytes each way, duration) and the one decision log line. */
function finishTunnel(deps: ListenerDeps, tunnel: TunnelState): void {
  const outcome = outcomeOf(tunnel)
  void deps.audit.recordQuietly(tunnelEvent(tunnel, 'request.completed'))

  const seconds = (performance.now() - tunnel.startedAt) / 1000
  deps.metrics.observeRequest(outcome, 'tunnel', seconds)
  const level = outcome === 'error' ? 'error' : outcome === 'allow' ? 'info' : 'warn'
  deps.logger[level](
    {
      event: 'request',
      requestId: tunnel.id,
      agent: tunnel.caller.agent,
      owner: tunnel.caller.owner,
      method: 'CONNECT',
      host: tunnel.target.host,
      port: tunnel.target.port,
      tunnel: 'opaque',
      decision: outcome,
      code: tunnel.code ?? tunnel.decision.code ?? undefined,
      rule: tunnel.decision.rule?.id,
      bytesIn: tunnel.bytesIn,
      bytesOut: tunnel.bytesOut,
      durationMs: Math.round(seconds * 1000),
      upstreamError: tunnel.upstreamError ?? undefined,
    },
    'request',
  )
}

function outcomeOf(tunnel: TunnelState): AuditDecision {
  if (tunnel.code === null) return tunnel.decision.kind
  return ERRORS[tunnel.code].status === 403 ? 'deny' : 'error'
}

function tunnelEvent(tunnel: TunnelState, type: AuditEventType): AuditEventInput {
  const { caller, target, decision } = tunnel
  const done = type !== 'request.decided'
  return {
    type,
    request_id: tunnel.id,
    ...callerAuditFields(caller),
    client: tunnel.client,
    method: 'CONNECT',
    scheme: null,
    host: target.host,
    port: target.port,
    path: null,
    decision: done ? outcomeOf(tunnel) : decision.kind,
    code: tunnel.code ?? decision.code,
    rule: decision.rule?.id ?? null,
    policy_version: tunnel.version,
    status: done ? (tunnel.code === null ? 200 : ERRORS[tunnel.code].status) : null,
    bytes_in: done ? tunnel.bytesIn : null,
    bytes_out: done ? tunnel.bytesOut : null,
    duration_ms: done ? Math.round(performance.now() - tunnel.startedAt) : null,
    upstream_error: tunnel.upstreamError,
    detail: { tunnel: 'opaque', ...(tunnel.address === null ? {} : { address: tunnel.address }) },
  }
}
