import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { waitFor } from '../../helpers/tollgate-harness.js'

export interface WireResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * Splits back-to-back HTTP/1.1 responses, framed by Content-Length or chunked (what the relay,
 * the control listener and the echo upstream send). A head with neither has an empty body (a
 * CONNECT's 200). Stops at the first response that has not fully arrived. `text` is latin1 (one
 * character a byte).
 */
export function parseResponses(text: string): WireResponse[] {
  const responses: WireResponse[] = []
  let rest = text
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) break
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const framed = readBody(rest.slice(end + 4), headers)
    if (framed === null) break
    responses.push({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: framed.body })
    rest = framed.rest
  }
  return responses
}

function readBody(
  text: string,
  headers: Record<string, string>,
): { body: string; rest: string } | null {
  if (headers['transfer-encoding'] !== 'chunked') {
    const length = Number(headers['content-length'] ?? 0)
    if (text.length < length) return null
    return { body: text.slice(0, length), rest: text.slice(length) }
  }
  let body = ''
  let at = 0
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at)
    if (lineEnd < 0) return null
    const size = parseInt(text.slice(at, lineEnd), 16)
    const start = lineEnd + 2
    if (size === 0) {
      return text.startsWith('\r\n', start) ? { body, rest: text.slice(start + 2) } : null
    }
    if (text.length < start + size + 2) return null
    body += text.slice(start, start + size)
    at = start + size + 2
  }
}

/** A connection (plain or a TLS tunnel) that keeps what it received and knows when it closed. */
export interface WireClient {
  send(bytes: string): void
  /** Waits for the `count`-th complete response on this connection (1-based) and returns it. */
  response(count: number): Promise<WireResponse>
  /** Waits until the relay has closed the connection. */
  closed(): Promise<void>
  isClosed(): boolean
  destroy(): void
}

function wireClient(socket: Socket | TLSSocket): WireClient {
  let text = ''
  let closed = false
  // latin1: one character per byte, so Content-Length counts characters.
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
  socket.on('error', () => undefined)
  socket.on('close', () => (closed = true))
  return {
    send: (bytes) => void socket.write(bytes),
    response: async (count) => {
      const complete = () => parseResponses(text).length >= count
      await waitFor(() => complete() || closed, `response ${count}`, 15_000)
      const found = parseResponses(text)[count - 1]
      if (!found) throw new Error(`the connection closed before response ${count}: ${text}`)
      return found
    },
    closed: () => waitFor(() => closed, 'the connection to close', 15_000),
    isClosed: () => closed,
    destroy: () => socket.destroy(),
  }
}

/** A plain keep-alive connection to the relay's proxy port. */
export async function openPlain(port: number): Promise<WireClient> {
  const socket = netConnect(port, '127.0.0.1')
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  return wireClient(socket)
}

/**
 * Opens `CONNECT authority` with the given header lines and, once the relay answers 200,
 * starts TLS inside it trusting the relay's CA. Rejects with the relay's answer otherwise.
 * `proxy` is the relay's proxy port, or the path of a sandbox's UNIX socket.
 */
export async function openTunnel(
  proxy: number | string,
  authority: string,
  headerLines: string,
  caPem: string,
): Promise<WireClient> {
  const raw = typeof proxy === 'number' ? netConnect(proxy, '127.0.0.1') : netConnect(proxy)
  raw.on('error', () => undefined)
  raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${headerLines}\r\n`)
  const reply = await new Promise<string>((resolve) =>
    raw.once('data', (chunk: Buffer) => resolve(chunk.toString())),
  )
  if (!reply.startsWith('HTTP/1.1 200')) throw new Error(`CONNECT refused: ${reply}`)

  const host = authority.slice(0, authority.lastIndexOf(':')).replace(/^\[|\]$/g, '')
  const secure = tlsConnect({ socket: raw, ca: caPem, host })
  const client = wireClient(secure)
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve)
    secure.once('error', reject)
  })
  return client
}
