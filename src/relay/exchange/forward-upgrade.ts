import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { ERRORS, type ErrorCode } from '../../errors/codes.js'
import { TollgateError, isTollgateError } from '../../errors/tollgate-error.js'
import { scrubHeaders } from '../../secrets/scrubber.js'
import { sendError } from '../http/error-response.js'
import { isReservedHeader } from '../http/headers.js'
import { joinScrubbed } from '../websocket/join-scrubbed.js'
import type { Exchange, RelayDeps } from './exchange.js'
import { prepareUpstream, type Outgoing } from './forward.js'
import { upstreamCode, upstreamErrorDetail } from './response-relay.js'

/** The raw connection of an upgrade request, and bytes the agent sent after its head. */
export interface UpgradeRequest {
  socket: Duplex
  head: Buffer
}

/**
 * Step 8 for a WebSocket upgrade a rule allowed: the handshake goes upstream like any request
 * (headers stripped, credential injected), and once the upstream answers 101 the two sockets
 * are joined. Without an injected credential the bytes pass as they are; with one, what the
 * upstream sends is scrubbed frame by frame (`joinScrubbed`), and no extension may be
 * negotiated, since a compressed frame would hide the value from the scrubber.
 */
export function forwardUpgrade(
  deps: RelayDeps,
  ex: Exchange,
  outgoing: Outgoing,
  scrub: readonly string[],
) {
  const upgrade = ex.upgrade
  if (!upgrade) throw new TollgateError('TOLLGATE_INTERNAL')
  const upstream = prepareUpstream(deps, ex, outgoing)
  // Offered by most clients (permessage-deflate); never asked for where frames are scrubbed.
  if (scrub.length > 0) delete outgoing.headers['sec-websocket-extensions']

  const options: Dispatcher.DispatchOptions = {
    origin: upstream.origin,
    path: outgoing.pathAndQuery,
    method: 'GET',
    headers: outgoing.headers,
    upgrade: 'websocket',
    headersTimeout: deps.upstreams.timeouts.headersMs,
  }
  upstream.dispatcher.dispatch(options, upgradeHandler(ex, upgrade, scrub))
}

const REFUSED_UPGRADE = 'the upstream refused the upgrade'
const UNSCRUBBABLE = ERRORS.TOLLGATE_UPSTREAM_ENCODING.message

function upgradeHandler(ex: Exchange, upgrade: UpgradeRequest, scrub: readonly string[]) {
  const fail = (code: ErrorCode, detail: string, message: string) => {
    ex.code = code
    ex.status = ERRORS[code].status
    ex.upstreamError = detail
    sendError(ex.res, { code, message, requestId: ex.id })
  }

  return {
    onRequestStart: () => undefined,
    onResponseStart: (_c: unknown, status: number) =>
      fail('TOLLGATE_UPSTREAM_CONNECT', `status ${status}`, REFUSED_UPGRADE),
    onResponseData: () => undefined,
    onResponseEnd: () => undefined,
    onResponseError: (_c: unknown, error: Error) => {
      const code = upstreamCode(error)
      const message = isTollgateError(error) ? error.publicMessage : REFUSED_UPGRADE
      fail(code, upstreamErrorDetail(error), message)
    },
    onRequestUpgrade: (
      _c: unknown,
      status: number,
      headers: IncomingHttpHeaders,
      upstream: Duplex,
    ) => {
      if (scrub.length > 0 && headers['sec-websocket-extensions'] !== undefined) {
        upstream.destroy()
        fail('TOLLGATE_UPSTREAM_ENCODING', 'WS_EXTENSION_NEGOTIATED', UNSCRUBBABLE)
        return
      }
      ex.status = status
      joinSockets(ex, upgrade, upstream, headers, scrub)
    },
  } satisfies Dispatcher.DispatchHandler
}

function joinSockets(
  ex: Exchange,
  upgrade: UpgradeRequest,
  upstream: Duplex,
  headers: IncomingHttpHeaders,
  scrub: readonly string[],
): void {
  const { socket, head } = upgrade
  ex.res.detachSocket(socket as Socket)
  const out: Record<string, string | string[] | undefined> = { ...headers }
  // The 101 keeps its Connection and Upgrade, but not headers that would pass for the relay's.
  for (const name of Object.keys(out)) if (isReservedHeader(name)) delete out[name]
  scrubHeaders(out, scrub)

  const lines = Object.entries(out).flatMap(([name, value]) =>
    value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`),
  )
  socket.write(`HTTP/1.1 101 Switching Protocols\r\n${lines.join('\r\n')}\r\n\r\n`)
  if (head.length > 0) upstream.write(head)
  if (scrub.length > 0) {
    joinScrubbed(ex, socket, upstream, scrub)
    return
  }

  upstream.on('data', (chunk: Buffer) => (ex.bytesOut += chunk.length))
  socket.on('data', (chunk: Buffer) => (ex.bytesIn += chunk.length))
  upstream.pipe(socket).on('error', () => upstream.destroy())
  socket.pipe(upstream).on('error', () => socket.destroy())
  upstream.on('close', () => socket.destroy())
  socket.on('close', () => upstream.destroy())
  upstream.on('error', () => socket.destroy())
}
