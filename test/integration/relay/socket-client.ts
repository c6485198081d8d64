import { connect, type Socket } from 'node:net'
import { waitFor } from '../../helpers/tollgate-harness.js'

/** A raw client connection that keeps everything the relay writes and knows when it closed. */
export interface SocketClient {
  socket: Socket
  /** Everything received so far, as latin1 text. */
  received(): string
  isClosed(): boolean
  /** Waits until the relay has written a whole response head (and whatever followed). */
  response(what?: string): Promise<string>
}

/**
 * Connects to `port` on loopback, from `localAddress` when given: every 127.x.y.z address is
 * loopback on Linux, so a test can be several source addresses at once.
 */
export async function openClient(port: number, localAddress?: string): Promise<SocketClient> {
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) })
  const chunks: Buffer[] = []
  let closed = false
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => undefined)
  socket.on('close', () => {
    closed = true
  })
  await new Promise<void>((resolve) => socket.once('connect', resolve))

  const received = () => Buffer.concat(chunks).toString('latin1')
  return {
    socket,
    received,
    isClosed: () => closed,
    response: async (what = 'a response') => {
      await waitFor(() => received().includes('\r\n\r\n') || closed, what, 15_000)
      return received()
    },
  }
}

/** Sends `text` one byte every `everyMs` until it is all sent or the connection is gone. */
export function trickle(client: SocketClient, text: string, everyMs: number): () => void {
  let sent = 0
  const timer = setInterval(() => {
    if (sent >= text.length || client.socket.destroyed) return clearInterval(timer)
    client.socket.write(text[sent++] ?? '')
  }, everyMs)
  return () => clearInterval(timer)
}

/** Reads one sample of a metric from the control listener's /metrics (0 when absent). */
export async function metricValue(controlPort: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${controlPort}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '))
  return line ? Number(line.slice(sample.length + 1)) : 0
}

/** Polls a metric until `accept` holds (bounded); returns the last value read. */
export async function waitForMetric(
  controlPort: number,
  sample: string,
  accept: (value: number) => boolean,
): Promise<number> {
  let value = await metricValue(controlPort, sample)
  for (let i = 0; i < 100 && !accept(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    value = await metricValue(controlPort, sample)
  }
  return value
}
