import type { IncomingMessage } from 'node:http'
import { TollgateError } from '../../errors/tollgate-error.js'
import { normalisePath, type NormalisedPath } from '../target/path.js'

/**
 * Headers upstreams read in place of the request line's path: IIS URL Rewrite, Symfony and
 * Zend honour `X-Original-URL` and `X-Rewrite-URL`; auth gateways behind nginx `auth_request`
 * or Traefik's forward auth read `X-Original-URI` and `X-Forwarded-Uri` as the path to judge.
 */
const PATH_OVERRIDE_HEADERS = new Set([
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-forwarded-uri',
])

/**
 * Every path the upstream might act on besides the request line's: an upstream that honours
 * `X-Original-URL: /admin` on `GET /public` serves `/admin`, so the relay decides on `/admin`
 * too. Names are matched as CGI would pass them on (`_` for `-`, any case); each value is
 * normalised like a request target, so a spelling the relay would refuse in the request line
 * (`/a/../..`, `%2f`, an absolute URL) is refused here as well.
 *
 * @throws TollgateError `TOLLGATE_BAD_PATH` for a value that is not a path the relay accepts
 */
export function overriddenPaths(req: IncomingMessage, own: string): NormalisedPath[] {
  const paths: NormalisedPath[] = []
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase().replaceAll('_', '-')
    if (!PATH_OVERRIDE_HEADERS.has(name)) continue
    const path = overridePath(name, (raw[i + 1] ?? '').trim())
    if (path.path !== own || path.query !== '') paths.push(path)
  }
  return paths
}

function overridePath(name: string, value: string): NormalisedPath {
  try {
    return normalisePath(value)
  } catch (error) {
    const why = error instanceof TollgateError ? error.publicMessage : 'not a path'
    throw new TollgateError('TOLLGATE_BAD_PATH', `${name}: ${why}`)
  }
}
