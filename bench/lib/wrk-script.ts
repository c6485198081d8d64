import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the load generator sends, beyond the URL it connects to. */
export interface RequestShape {
  /**
   * Absolute-form request target (`http://host:port/`), for forward proxies. wrk itself only
   * knows origin-form, so the script overrides `wrk.path`.
   */
  absoluteTarget?: string
  /** Extra request headers, e.g. `Host` of the upstream or `Proxy-Authorization`. */
  headers?: Record<string, string>
}

/**
 * The `done()` hook prints one machine-readable line, so results never depend on wrk's
 * human-oriented, unit-suffixed text. Latencies are in microseconds.
 */
const DONE_HOOK = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%.0f,"durationUs":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latencyUs":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
`

/** Writes the Lua script for one scenario into `dir` and returns its path. */
export function writeWrkScript(dir: string, name: string, shape: RequestShape): string {
  const lines = ['wrk.method = "GET"']

  if (shape.absoluteTarget !== undefined)
    lines.push(`wrk.path = ${luaString(shape.absoluteTarget)}`)
  for (const [header, value] of Object.entries(shape.headers ?? {})) {
    lines.push(`wrk.headers[${luaString(header)}] = ${luaString(value)}`)
  }

  const path = join(dir, `${name}.lua`)
  // The script may carry the bench agent's token: readable by the bench user only.
  writeFileSync(path, `${lines.join('\n')}\n${DONE_HOOK}`, { mode: 0o600 })
  return path
}

function luaString(value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error('bench values must not need Lua escaping')
  return `"${value}"`
}
