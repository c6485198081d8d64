import type { Scheme } from '../../config/types.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { defaultPort } from '../../policy/request-target.js'
import { canonicalHost } from './host.js'

export interface Authority {
  host: string
  port: number
}

const PORT = /^[0-9]{1,5}$/

/**
 * Parses `host[:port]` (a CONNECT target, a `Host` header, the authority of an absolute-form
 * URL). Userinfo is refused: `user@host` is a classic way to make two parsers see two hosts.
 */
export function parseAuthority(raw: string, scheme: Scheme, requirePort = false): Authority {
  if (raw.includes('@')) throw ambiguous('userinfo is not allowed in the authority')
  if (/[\s/\\?#%]/.test(raw)) throw ambiguous('the authority has characters hosts cannot have')

  const { hostPart, portPart } = splitHostPort(raw)
  if (portPart === null && requirePort) throw ambiguous('the target needs an explicit port')
  return { host: canonicalHost(hostPart), port: parsePort(portPart, scheme) }
}

function splitHostPort(raw: string): { hostPart: string; portPart: string | null } {
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']')
    if (close < 0) throw ambiguous('unclosed IPv6 literal')
    const rest = raw.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':')) throw ambiguous('junk after the IPv6 literal')
    return { hostPart: raw.slice(0, close + 1), portPart: rest === '' ? null : rest.slice(1) }
  }

  const colon = raw.indexOf(':')
  if (colon < 0) return { hostPart: raw, portPart: null }
  if (raw.indexOf(':', colon + 1) >= 0) throw ambiguous('IPv6 literals must be in brackets')
  return { hostPart: raw.slice(0, colon), portPart: raw.slice(colon + 1) }
}

function parsePort(raw: string | null, scheme: Scheme): number {
  if (raw === null) return defaultPort(scheme)
  if (!PORT.test(raw)) throw ambiguous('the port is not a number')
  const port = Number(raw)
  if (port < 1 || port > 65535) throw ambiguous('the port is out of range')
  return port
}

function ambiguous(message: string): TollgateError {
  return new TollgateError('TOLLGATE_AMBIGUOUS_TARGET', message)
}
