import type { Scheme } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'
import { defaultPort, type RequestTarget } from './request-target.js'

/**
 * Turns `METHOD` and an absolute URL into a canonical target, for the CLI's explain and policy
 * tests. It relies on WHATWG URL parsing (dot segments resolved, host lower-cased) and is not
 * the relay's normaliser, which is stricter about ambiguous input coming from agents.
 */
export function targetFromUrl(method: string, url: string): RequestTarget {
  const parsed = parseUrl(url)
  const scheme = toScheme(parsed.protocol)

  return {
    scheme,
    host: canonicalHost(parsed.hostname),
    port: parsed.port === '' ? defaultPort(scheme) : Number(parsed.port),
    method: method.toUpperCase(),
    path: parsed.pathname === '' ? '/' : parsed.pathname,
  }
}

/** `https://host:port/path` for messages: never the query, which may carry secrets. */
export function formatTarget(target: RequestTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  return `${target.method} ${target.scheme}://${host}:${target.port}${target.path}`
}

function parseUrl(url: string): URL {
  try {
    return new URL(url)
  } catch (error) {
    // The URL itself stays out of the message: it may hold credentials or a query string.
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'not an absolute URL', { cause: error })
  }
}

function toScheme(protocol: string): Scheme {
  if (protocol === 'https:') return 'https'
  if (protocol === 'http:') return 'http'
  throw new TollgateError('TOLLGATE_UNSUPPORTED_SCHEME')
}

/** Lower case, no trailing dot, IPv6 without brackets: the form policy is decided on. */
export function canonicalHost(hostname: string): string {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  return bare.toLowerCase().replace(/\.$/, '')
}
