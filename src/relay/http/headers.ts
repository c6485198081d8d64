import type { IncomingHttpHeaders } from 'node:http'
import { TollgateError } from '../../errors/tollgate-error.js'

export type HeaderMap = Record<string, string | string[]>

/**
 * Headers that describe one hop, not the request: never forwarded either way. The relay also
 * drops `expect` (it answers 100-continue itself, after the decision) and anything the agent
 * names in `Connection`, except headers the relay sets itself, so `Connection: authorization`
 * cannot strip an injected credential.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
])

/**
 * The relay's own headers (`tollgate-error`, `tollgate-request-id`) are reserved in both
 * directions: an upstream that sends them back could pass its answer off as a relay refusal,
 * and an agent's own copies would reach the upstream as if the relay had set them.
 */
const RESERVED_PREFIX = 'tollgate-'

/** Whether a header is one of the relay's own, never passed on from either side. */
export function isReservedHeader(name: string): boolean {
  return name.toLowerCase().startsWith(RESERVED_PREFIX)
}

/** What a message without a `Connection` header names: nothing, and nothing to allocate. */
const NO_TOKENS: ReadonlySet<string> = new Set()

/**
 * Builds the upstream request headers from what the agent sent (raw, so duplicates survive),
 * without hop-by-hop headers and without the names in `drop` (the agent's Tollgate token on
 * reverse routes).
 */
export function forwardableHeaders(rawHeaders: string[], drop: ReadonlySet<string>): HeaderMap {
  const named = connectionTokens(rawHeaders)
  const headers: HeaderMap = Object.create(null) as HeaderMap
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase()
    if (HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue
    if (name.startsWith(RESERVED_PREFIX)) continue
    appendHeader(headers, name, rawHeaders[i + 1] ?? '')
  }
  return headers
}

/** Response headers safe to hand back to the agent. */
export function forwardableResponseHeaders(headers: IncomingHttpHeaders): HeaderMap {
  const named =
    headers.connection === undefined ? NO_TOKENS : new Set(splitTokens(headers.connection))
  const out: HeaderMap = Object.create(null) as HeaderMap
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue
    if (name.startsWith(RESERVED_PREFIX)) continue
    out[name] = value
  }
  return out
}

function appendHeader(headers: HeaderMap, name: string, value: string): void {
  const existing = headers[name]
  if (existing === undefined) headers[name] = value
  else if (Array.isArray(existing)) existing.push(value)
  else headers[name] = [existing, value]
}

function connectionTokens(rawHeaders: string[]): ReadonlySet<string> {
  let tokens: Set<string> | null = null
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() !== 'connection') continue
    tokens ??= new Set<string>()
    for (const token of splitTokens(rawHeaders[i + 1])) tokens.add(token)
  }
  return tokens ?? NO_TOKENS
}

function splitTokens(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '')
  return joined
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0)
}

/** The single value of a header the agent must send at most once (Host, Proxy-Authorization). */
export function singleHeader(rawHeaders: string[], name: string): string | null {
  let found: string | null = null
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() !== name) continue
    if (found !== null) {
      throw new TollgateError('TOLLGATE_AMBIGUOUS_TARGET', `the ${name} header appears twice`)
    }
    found = rawHeaders[i + 1] ?? ''
  }
  return found
}
