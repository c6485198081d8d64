import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { singleHeader } from '../relay/http/headers.js'
import { parseAuthority } from '../relay/target/authority.js'

/**
 * The canonical host a request's `Host` header names, or null when there is none, more than
 * one, or one that is not a host. Parsed by the relay's own authority parser, so `LOCALHOST.`,
 * `127.1` and `[0::1]:3130` mean here exactly what they mean to policy.
 */
export function controlHostOf(req: IncomingMessage): string | null {
  try {
    // Node keeps the first of several Host headers; two readings of one request are refused.
    const header = singleHeader(req.rawHeaders, 'host')
    if (header === null || header === '') return null
    return parseAuthority(header, 'http').host
  } catch {
    return null
  }
}

/**
 * Whether the control listener answers a request for `host` (canonical, from `controlHostOf`).
 *
 * DNS rebinding: a page the operator opens can point its own name at 127.0.0.1 and then read
 * this listener as if it were its own origin, since a browser checks names, not addresses. The
 * `Host` it sends is then that name. Names nobody else can point at this machine are answered:
 * IP literals (a page whose origin is an address is cross-origin to every named page), the
 * `localhost` names (RFC 6761: never resolved by DNS), and the names the operator lists.
 *
 * @param names - lower case, without a trailing dot: `server.control.hosts` and the name the
 *   listener was bound by, if it was bound by a name.
 */
export function isControlHost(host: string, names: readonly string[]): boolean {
  if (isIP(host) !== 0) return true
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  return names.includes(host)
}
