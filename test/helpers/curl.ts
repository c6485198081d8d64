import { execFile } from 'node:child_process'

export interface CurlResult {
  status: number
  headers: Record<string, string>
  body: string
  exitCode: number
  stderr: string
}

/**
 * Runs the real curl binary. `-sS` keeps errors; `-D -` dumps response headers so tests can
 * read the relay's error header. Only the last response's headers are parsed.
 */
export function curl(args: string[], env: Record<string, string> = {}): Promise<CurlResult> {
  const full = ['-sS', '-D', '-', '--max-time', '20', ...args]
  return new Promise((resolve) => {
    execFile(
      'curl',
      full,
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0
        resolve({ ...parseResponse(stdout), exitCode, stderr })
      },
    )
  })
}

function parseResponse(raw: string): {
  status: number
  headers: Record<string, string>
  body: string
} {
  const blocks = raw.split('\r\n\r\n')
  let index = 0
  // Skip interim and CONNECT responses: keep the last header block that starts with HTTP/.
  while (index + 1 < blocks.length && blocks[index + 1]?.startsWith('HTTP/')) index++
  const head = blocks[index] ?? ''
  const body = blocks.slice(index + 1).join('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body }
}
