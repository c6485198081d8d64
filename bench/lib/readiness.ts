import type { ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const POLL_MS = 50

/**
 * Waits until something accepts TCP connections on `port`. Fails early, naming the log file,
 * if the process that should listen there exits first (a bad config, a taken port).
 */
export async function waitForPort(
  child: ChildProcess,
  port: number,
  what: { name: string; logFile: string; timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (what.timeoutMs ?? 15_000)

  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what.name} exited before listening; see ${what.logFile}`)
    }
    if (await canConnect(port)) return
    await sleep(POLL_MS)
  }
  throw new Error(`${what.name} did not listen on ${port} in time; see ${what.logFile}`)
}

/** Waits until `GET url` answers 200, with the same early failure as {@link waitForPort}. */
export async function waitForHttpOk(
  child: ChildProcess,
  url: string,
  what: { name: string; logFile: string; timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (what.timeoutMs ?? 30_000)

  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what.name} exited before it was healthy; see ${what.logFile}`)
    }
    if ((await statusOf(url)) === 200) return
    await sleep(POLL_MS * 2)
  }
  throw new Error(`${what.name} was not healthy at ${url} in time; see ${what.logFile}`)
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function statusOf(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? null)
    })
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(null))
    req.end()
  })
}
