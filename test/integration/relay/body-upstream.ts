import { createServer as createHttpServer, request } from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

export interface BodyRecord {
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
}

export interface BodyUpstream {
  port: number
  received: BodyRecord[]
  /** Bytes of the body now arriving (reset when a request starts), to pace a client by. */
  arriving: { bytes: number }
  close(): Promise<void>
}

const BOMB_BYTES = 64 * 1024 * 1024

/**
 * An upstream for body tests: it records each body as bytes, counts the bytes of the body in
 * flight, echoes everything as JSON, and answers `/header/gzip-bomb` and `/header/br-bomb` with
 * 64 MiB of zeros compressed to a few kilobytes (gzip) or about a hundred bytes (brotli).
 */
export async function startBodyUpstream(tls?: { cert: string; key: string }) {
  const received: BodyRecord[] = []
  const arriving = { bytes: 0 }
  const handler = (req: IncomingMessage, res: ServerResponse) =>
    void respond(req, res, received, arriving).catch(() => res.destroy())
  const server: Server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const upstream: BodyUpstream = {
    port: (server.address() as AddressInfo).port,
    received,
    arriving,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return upstream
}

async function respond(
  req: IncomingMessage,
  res: ServerResponse,
  received: BodyRecord[],
  arriving: { bytes: number },
) {
  arriving.bytes = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    chunks.push(chunk as Buffer)
    arriving.bytes += (chunk as Buffer).length
  }
  const record = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
  received.push(record)

  if (req.url?.endsWith('/gzip-bomb')) return sendBomb(res, 'gzip')
  if (req.url?.endsWith('/br-bomb')) return sendBomb(res, 'br')
  const body = JSON.stringify({ ...record, body: record.body.toString('utf8') })
  const length = Buffer.byteLength(body)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': length })
  res.end(body)
}

let bombs: { gzip: Buffer; br: Buffer } | null = null

function sendBomb(res: ServerResponse, encoding: 'gzip' | 'br'): void {
  const zeros = Buffer.alloc(BOMB_BYTES)
  bombs ??= {
    gzip: gzipSync(zeros),
    br: brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  }
  const body = bombs[encoding]
  res.writeHead(200, { 'content-encoding': encoding, 'content-length': body.length })
  res.end(body)
}

export interface ProxiedResponse {
  status: number
  headers: IncomingMessage['headers']
  body: Buffer
  /** Whether the whole response arrived (false: the connection was cut). */
  complete: boolean
}

/**
 * Sends a request through the forward proxy, writing `chunks` one after the other (chunked
 * unless `headers` declares a length) and calling `beforeChunk(i)` before each one after the
 * first, so a test can pace the body. Stops writing once a response arrives.
 */
export function sendThroughProxy(
  proxyPort: number,
  url: string,
  auth: string,
  chunks: Buffer[],
  headers: OutgoingHttpHeaders = {},
  beforeChunk: (index: number) => Promise<void> = () => Promise.resolve(),
): Promise<ProxiedResponse> {
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request({
      host: '127.0.0.1',
      port: proxyPort,
      method: chunks.length === 0 ? 'GET' : 'POST',
      path: url,
      // Node would name the proxy in `Host`; the relay refuses a Host that disagrees with the URL.
      headers: { ...headers, host: new URL(url).host, 'proxy-authorization': auth },
      agent: false,
    })
    req.on('response', (res) => {
      answered = true
      const body: Buffer[] = []
      res.on('data', (chunk: Buffer) => body.push(chunk))
      res.on('close', () => {
        const { statusCode = 0, headers: head, complete } = res
        resolve({ status: statusCode, headers: head, body: Buffer.concat(body), complete })
      })
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    void writeChunks(req, chunks, beforeChunk, () => answered)
  })
}

async function writeChunks(
  req: ReturnType<typeof request>,
  chunks: Buffer[],
  beforeChunk: (index: number) => Promise<void>,
  answered: () => boolean,
): Promise<void> {
  for (const [index, chunk] of chunks.entries()) {
    if (index > 0) await beforeChunk(index)
    if (answered() || req.destroyed) return
    await new Promise<void>((resolve) => req.write(chunk, () => resolve()))
  }
  if (!answered() && !req.destroyed) req.end()
}
