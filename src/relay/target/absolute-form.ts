import { TollgateError } from '../../errors/tollgate-error.js'
import { parseAuthority, type Authority } from './authority.js'

export interface AbsoluteTarget extends Authority {
  /** The origin-form rest of the target (`/path?query`), not yet normalised. */
  originForm: string
}

const HTTP_PREFIX = /^http:\/\//i

/**
 * Splits an absolute-form request target (`http://host:port/path?q`) sent to the forward proxy.
 * Only `http` is relayed this way; HTTPS goes through CONNECT so the relay can intercept it.
 */
export function parseAbsoluteForm(url: string): AbsoluteTarget {
  if (!HTTP_PREFIX.test(url)) {
    const https = /^https:\/\//i.test(url)
    throw new TollgateError(
      https ? 'TOLLGATE_UNSUPPORTED_SCHEME' : 'TOLLGATE_MALFORMED_REQUEST',
      https
        ? 'send https requests through a CONNECT tunnel'
        : 'the forward proxy needs an absolute-form http:// target',
    )
  }

  const rest = url.slice('http://'.length)
  const end = rest.search(/[/?]/)
  const rawAuthority = end < 0 ? rest : rest.slice(0, end)
  const tail = end < 0 ? '/' : rest.slice(end)
  const originForm = tail.startsWith('?') ? '/' + tail : tail
  return { ...parseAuthority(rawAuthority, 'http'), originForm }
}
