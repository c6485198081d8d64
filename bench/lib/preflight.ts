import { request } from 'node:http'

import type { RequestShape } from './wrk-script.js'

/** What one request through the path under test came back with. */
export interface PreflightResponse {
  status: number
  bodyBytes: number
  headers: Record<string, string | string[] | undefined>
}

/**
 * Sends the same request the load will send, once, with Node's client. A proxy that answers
 * 403 or 407 quickly would otherwise look fast; the scenario checks this response first.
 */
export async function sendOnce(port: number, shape: RequestShape): Promise<PreflightResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: shape.absoluteTarget ?? '/',
        headers: shape.headers ?? {},
        timeout: 5000,
        agent: false,
      },
      (res) => {
        let bodyBytes = 0
        res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length))
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, bodyBytes, headers: res.headers }),
        )
      },
    )
    req.once('timeout', () => req.destroy(new Error('preflight request timed out')))
    req.once('error', reject)
    req.end()
  })
}

/** Throws with a readable reason unless the response is the 1 KiB 200 with `marker` set to 1. */
export function assertPreflight(
  scenario: string,
  response: PreflightResponse,
  expected: { bodyBytes: number; marker: string | null },
): void {
  if (response.status !== 200) {
    throw new Error(`${scenario}: preflight answered ${response.status}, expected 200`)
  }
  if (response.bodyBytes !== expected.bodyBytes) {
    throw new Error(`${scenario}: preflight body was ${response.bodyBytes} bytes`)
  }
  if (expected.marker !== null && response.headers[expected.marker] !== '1') {
    throw new Error(`${scenario}: the upstream did not see the header behind ${expected.marker}`)
  }
}
