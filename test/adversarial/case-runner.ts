import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import type { CorpusCase } from './corpus/case.js'
import { ResponseReader, type ParsedResponse } from './response-reader.js'

/** What one case's connection produced. */
export interface CaseRun {
  /** The responses to the case's own bytes, the probe's excluded. */
  responses: ParsedResponse[]
  /** Every byte the relay sent on the connection, CONNECT reply and probe included. */
  raw: Buffer
  /** The probe's response, when the connection was still open to send it. */
  probe: ParsedResponse | null
  /** How the run ended when it did not end well: a deadline, unreadable bytes, a TLS error. */
  failure: string | null
}

export interface RunTarget {
  proxyPort: number
  reversePort: number
  caPem: string
  vars: Record<string, string>
  /** The probe request for a listener: an allowed request whose response is recognisable. */
  probe(kind: 'forward' | 'reverse' | 'tunnel', marker: string): string
}

/**
 * Fills in `{name}` substitutions, then every `Content-Length: {length}` with the byte length
 * of the body that runs from the blank line after it to the next `{end}`.
 */
export function render(template: string, vars: Record<string, string>): Buffer {
  const text = template.replace(/\{([a-z0-9:-]+)\}/gi, (whole, name: string) => {
    if (name === 'length' || name === 'end') return whole
    const value = vars[name]
    if (value === undefined) throw new Error(`unknown substitution ${whole}`)
    return value
  })
  return Buffer.concat(withLengths(text).map(encodePart))
}

function withLengths(text: string): string[] {
  const parts: string[] = []
  let rest = text
  for (let at = rest.indexOf('{length}'); at >= 0; at = rest.indexOf('{length}')) {
    const bodyStart = rest.indexOf('\r\n\r\n', at) + 4
    const bodyEnd = rest.indexOf('{end}', bodyStart)
    if (bodyStart < 4 || bodyEnd < 0) throw new Error('{length} without a body ending in {end}')
    const length = encodePart(rest.slice(bodyStart, bodyEnd)).length
    parts.push(rest.slice(0, at) + String(length) + rest.slice(at + 8, bodyEnd))
    rest = rest.slice(bodyEnd + 5)
  }
  return [...parts, rest.replaceAll('{end}', '')]
}

// Characters past Latin-1 can only be meant as UTF-8; all others are single bytes.
function encodePart(text: string): Buffer {
  const wide = [...text].some((char) => char.charCodeAt(0) > 0xff)
  return wide ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1')
}

/**
 * Runs one case on a fresh connection: sends its bytes, reads one response per expected
 * outcome, then (if the relay kept the connection) a probe request whose response must come
 * next, so an extra response smuggled in between cannot go unnoticed. Never waits past
 * `deadlineMs`: a hang fails the case, not the run.
 */
export async function runCase(
  target: RunTarget,
  corpusCase: CorpusCase,
  marker: string,
  deadlineMs: number,
): Promise<CaseRun> {
  const run: CaseRun = { responses: [], raw: Buffer.alloc(0), probe: null, failure: null }
  const deadline = Date.now() + deadlineMs
  let socket: Duplex | null = null
  try {
    const opened = await openConnection(target, corpusCase, deadline, run)
    socket = opened.socket
    await exchange(opened, corpusCase, target, marker, deadline, run)
  } catch (error) {
    run.failure = error instanceof Error ? error.message : String(error)
  } finally {
    socket?.destroy()
  }
  return run
}

interface Connection {
  socket: Duplex
  reader: ResponseReader
  closed: () => boolean
  /** Resolves when the reader has `count` responses, the connection closed, or the deadline. */
  waitFor(count: number, deadline: number): Promise<void>
}

async function exchange(
  conn: Connection,
  corpusCase: CorpusCase,
  target: RunTarget,
  marker: string,
  deadline: number,
  run: CaseRun,
): Promise<void> {
  const expected = corpusCase.expect.length
  conn.socket.write(render(corpusCase.send, target.vars))
  await conn.waitFor(expected, deadline)
  run.responses = conn.reader.responses.slice(0, expected)
  if (conn.reader.error !== null) throw new Error(conn.reader.error)
  if (conn.reader.responses.length < expected) {
    if (!conn.closed()) throw new Error(`deadline: ${conn.reader.responses.length} responses`)
    return
  }
  if (conn.reader.responses.length > expected) throw new Error('more responses than requests')
  if (conn.closed()) return

  const kind = corpusCase.tunnel ? 'tunnel' : (corpusCase.listener ?? 'forward')
  conn.socket.write(render(target.probe(kind, marker), target.vars))
  await conn.waitFor(expected + 1, deadline)
  if (conn.reader.error !== null) throw new Error(conn.reader.error)
  run.probe = conn.reader.responses[expected] ?? null
  // A relay that closed instead of answering the probe is fine: it owed the probe nothing.
  if (run.probe === null && !conn.closed()) throw new Error('deadline: no answer to the probe')
}

async function openConnection(
  target: RunTarget,
  corpusCase: CorpusCase,
  deadline: number,
  run: CaseRun,
): Promise<Connection> {
  const port = corpusCase.listener === 'reverse' ? target.reversePort : target.proxyPort
  const plain = await dial(port, deadline)
  plain.on('error', () => undefined)
  if (!corpusCase.tunnel) return watch(plain, run)

  const { authority, sni } = corpusCase.tunnel
  const connect = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nProxy-Authorization: {auth}\r\n\r\n`
  plain.write(render(connect, target.vars))
  await expectEstablished(plain, deadline, run)

  // A mismatched SNI is the attack, so the client must not refuse the relay's certificate.
  const secure: TLSSocket = tlsConnect({
    socket: plain,
    ca: target.caPem,
    rejectUnauthorized: false,
    ...(sni === null ? {} : { servername: sni }),
  })
  secure.on('error', () => undefined)
  await within(deadline, 'TLS handshake', (resolve, reject) => {
    secure.once('secureConnect', resolve)
    secure.once('error', reject)
    secure.once('close', () => reject(new Error('the tunnel closed during the handshake')))
  })
  return watch(secure, run)
}

function dial(port: number, deadline: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1')
  return within(deadline, 'connect', (resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Reads the CONNECT reply byte by byte up to its blank line, leaving TLS bytes unread. */
async function expectEstablished(socket: Socket, deadline: number, run: CaseRun): Promise<void> {
  let head = Buffer.alloc(0)
  await within(deadline, 'CONNECT reply', (resolve, reject) => {
    const onReadable = () => {
      for (
        let byte = socket.read(1) as Buffer | null;
        byte;
        byte = socket.read(1) as Buffer | null
      ) {
        head = Buffer.concat([head, byte])
        if (head.subarray(-4).toString('latin1') !== '\r\n\r\n') continue
        socket.off('readable', onReadable)
        return resolve()
      }
    }
    socket.on('readable', onReadable)
    socket.once('close', () => reject(new Error('the relay closed the CONNECT')))
  })
  run.raw = Buffer.concat([run.raw, head])
  if (!head.toString('latin1').startsWith('HTTP/1.1 200')) {
    throw new Error(`CONNECT refused: ${head.toString('latin1').split('\r\n')[0] ?? ''}`)
  }
}

function watch(socket: Duplex, run: CaseRun): Connection {
  const reader = new ResponseReader()
  let closed = false
  const waiters = new Set<() => void>()
  const wake = () => waiters.forEach((w) => w())
  socket.on('data', (chunk: Buffer) => {
    run.raw = Buffer.concat([run.raw, chunk])
    reader.push(chunk)
    wake()
  })
  socket.on('close', () => {
    closed = true
    reader.end()
    wake()
  })
  return {
    socket,
    reader,
    closed: () => closed,
    waitFor: (count, deadline) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!closed && reader.error === null && reader.responses.length < count) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(
          () => {
            waiters.delete(check)
            resolve()
          },
          Math.max(0, deadline - Date.now()),
        )
        waiters.add(check)
        check()
      }),
  }
}

function within<T = void>(
  deadline: number,
  what: string,
  body: (resolve: (value: T) => void, reject: (error: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`deadline: ${what}`)),
      Math.max(0, deadline - Date.now()),
    )
    body(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
