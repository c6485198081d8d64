import { isIP } from 'node:net'

import { exactHostProblem } from './host-pattern.js'
import type { ListenConfig } from './types.js'

const BRACKETED = /^\[([^\]]+)\]:(\d{1,5})$/
const PLAIN = /^([^:[\]]+):(\d{1,5})$/

/**
 * Parses `host:port` or `[ipv6]:port` into a listen address, IPv6 without brackets (as
 * `net.Server.listen` wants it). Port 0 is accepted: the system picks a free port, which tests
 * rely on. Returns a reason instead when the text is not a listen address.
 */
export function parseListenAddress(text: string): ListenConfig | string {
  const bracketed = BRACKETED.exec(text)
  if (bracketed) return withPort(bracketed[1] ?? '', bracketed[2] ?? '', 'ipv6')

  const plain = PLAIN.exec(text)
  if (plain) return withPort(plain[1] ?? '', plain[2] ?? '', 'plain')

  return 'must be host:port or [ipv6]:port'
}

/** `127.0.0.1:3128`, `[::1]:3128`: the form users write and logs print. */
export function formatListenAddress(listen: ListenConfig): string {
  return isIP(listen.host) === 6
    ? `[${listen.host}]:${listen.port}`
    : `${listen.host}:${listen.port}`
}

function withPort(host: string, portText: string, form: 'ipv6' | 'plain'): ListenConfig | string {
  const port = Number(portText)
  if (port > 65_535) return 'port must be between 0 and 65535'

  if (form === 'ipv6')
    return isIP(host) === 6 ? { host, port } : 'brackets must hold an IPv6 address'

  const lower = host.toLowerCase()
  return exactHostProblem(lower) === null ? { host: lower, port } : 'is not a valid host'
}
