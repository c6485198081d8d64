import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

export interface EchoRecord {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface EchoUpstream {
  port: number
  /** Every request the upstream received, in order. */
  received: EchoRecord[]
  close(): Promise<void>
}

/**
 * An upstream that reflects everything it receives as JSON (method, url, headers, body), so a
 * test can see exactly what the relay forwarded, and what an echoing upstream would hand back.
 * `/sse` streams two server-sent events with a pause between them.
 */
export async function startEchoUpstream(tls?: {
  cert: string
  key: string
}): Promise<EchoUpstream> {
  const received: EchoRecord[] = []
  // A body the relay aborts midway (a slow sender it cut) rejects the read: drop that request.
  const handler = (req: IncomingMessage, res: ServerResponse) =>
    void respond(req, res, received).catch(() => res.destroy())
  const server: Server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

async function respond(req: IncomingMessage, res: ServerResponse, received: EchoRecord[]) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const record = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  }
  received.push(record)

  if (req.url === '/sse') return streamEvents(res)
  if (req.url?.endsWith('/odd-encoding')) {
    res.writeHead(200, { 'content-encoding': 'compress' })
    res.end(String(req.headers['x-api-key']))
    return
  }
  if (req.url?.includes('/redirect')) {
    res.writeHead(302, {
      location: `http://elsewhere.test/?echo=${String(req.headers['x-api-key'])}`,
    })
    res.end()
    return
  }
  const body = JSON.stringify(record)
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-echo-authorization': String(req.headers.authorization ?? ''),
    'x-echo-api-key': String(req.headers['x-api-key'] ?? ''),
  })
  res.end(body)
}

function streamEvents(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write('data: first\n\n')
  // The second event waits until the client has acknowledged the first (see sse test).
  const timer = setInterval(() => {
    if (!sseGate.open) return
    clearInterval(timer)
    res.end('data: second\n\n')
  }, 5)
}

/** Lets the SSE test hold the stream open until it has seen the first event arrive. */
export const sseGate = { open: false }
