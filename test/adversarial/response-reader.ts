/** One HTTP/1.1 response as the agent received it. */
export interface ParsedResponse {
  status: number
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: Buffer
  /** Interim (1xx) statuses that came before this response, e.g. 100 Continue. */
  interim: number[]
}

const HEAD_END = Buffer.from('\r\n\r\n')

/**
 * Splits a byte stream into HTTP/1.1 responses without trusting it to be well formed: a test
 * client that fixed things up (like an ordinary HTTP client does) could hide a desync. Bodies
 * are framed by `Content-Length` or chunked encoding; a response with neither runs to the end
 * of the stream, so it is complete only once the connection has closed.
 */
export class ResponseReader {
  #buffer = Buffer.alloc(0)
  #interim: number[] = []
  readonly responses: ParsedResponse[] = []
  /** Set when the bytes cannot be read as responses; nothing more is parsed after it. */
  error: string | null = null

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    while (this.error === null && this.#next(false));
  }

  /** The peer closed: a response without a length ends here. */
  end(): void {
    while (this.error === null && this.#next(true));
    if (this.error === null && this.#buffer.length > 0) this.error = 'a truncated response'
  }

  #next(closed: boolean): boolean {
    const headEnd = this.#buffer.indexOf(HEAD_END)
    if (headEnd < 0) return false
    const head = this.#buffer.subarray(0, headEnd).toString('latin1')
    const [statusLine = '', ...lines] = head.split('\r\n')
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine)
    if (!match) {
      this.error = `not a status line: ${JSON.stringify(statusLine.slice(0, 80))}`
      return false
    }
    const status = Number(match[1])
    const headers = parseHeaders(lines)
    const rest = this.#buffer.subarray(headEnd + HEAD_END.length)

    if (status >= 100 && status < 200 && status !== 101) {
      this.#interim.push(status)
      this.#buffer = rest
      return true
    }
    const framed = frameBody(status, headers, rest, closed)
    if (framed === null) return false
    if (typeof framed === 'string') {
      this.error = framed
      return false
    }
    this.responses.push({ status, headers, body: framed.body, interim: this.#interim })
    this.#interim = []
    this.#buffer = rest.subarray(framed.used)
    return true
  }
}

function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return headers
}

type Framed = { body: Buffer; used: number } | string | null

function frameBody(
  status: number,
  headers: Record<string, string>,
  rest: Buffer,
  closed: boolean,
): Framed {
  // After a 101 the bytes belong to another protocol; 204 and 304 have no body.
  if (status === 101 || status === 204 || status === 304) return { body: Buffer.alloc(0), used: 0 }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return dechunk(rest)
  const length = headers['content-length']
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) return `a bad Content-Length: ${length}`
    const n = Number(length)
    return rest.length >= n ? { body: rest.subarray(0, n), used: n } : null
  }
  return closed ? { body: rest, used: rest.length } : null
}

function dechunk(data: Buffer): Framed {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd < 0) return null
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
    if (Number.isNaN(size)) return 'a bad chunk size'
    at = lineEnd + 2
    if (size === 0) {
      // Trailers, if any, end with an empty line.
      const end = data.indexOf(HEAD_END, at - 2)
      return end < 0 ? null : { body: Buffer.concat(parts), used: end + HEAD_END.length }
    }
    if (data.length < at + size + 2) return null
    parts.push(data.subarray(at, at + size))
    at += size + 2
  }
}
