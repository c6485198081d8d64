import { TollgateError } from '../../errors/tollgate-error.js'

export interface NormalisedPath {
  /** The path policy is matched on, and exactly the path forwarded upstream. */
  path: string
  /** The raw query including its leading `?`, or ''. Forwarded byte for byte. */
  query: string
}

const VISIBLE_ASCII = /^[\x21-\x7e]*$/
const UNRESERVED = /[A-Za-z0-9\-._~]/
// Stateless: `decode` without `stream` keeps nothing between calls.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Normalises an origin-form request target so that the relay and the upstream read the same
 * path. Percent-encoded unreserved characters are decoded (so `%2e%2e` is seen as `..`), dot
 * segments are resolved, and every spelling that upstreams disagree about is refused rather
 * than guessed: encoded `/`, `\`, `%` or NUL, double encoding, escapes that are not UTF-8,
 * `;` parameters, repeated slashes, backslashes, and dot segments that climb above the root.
 */
export function normalisePath(target: string): NormalisedPath {
  if (!target.startsWith('/')) throw badPath('the path must start with /')
  if (!VISIBLE_ASCII.test(target)) throw badPath('the target has spaces, controls or non-ASCII')
  if (target.includes('\\') || target.includes('#')) throw badPath('backslash or fragment')

  const mark = target.indexOf('?')
  const rawPath = mark < 0 ? target : target.slice(0, mark)
  const query = mark < 0 ? '' : target.slice(mark)
  if (rawPath.includes(';')) throw badPath('path parameters (;) are refused')

  const decoded = decodeUnreserved(rawPath)
  requireUtf8(decoded)
  if (decoded.includes('//')) throw badPath('repeated slashes are refused')
  return { path: removeDotSegments(decoded), query }
}

function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path
  return path.replace(/%(..)?/g, (match: string, hex: string | undefined) => {
    if (hex === undefined || !/^[0-9a-fA-F]{2}$/.test(hex)) throw badPath('bad percent-encoding')
    const char = String.fromCharCode(parseInt(hex, 16))
    if (UNRESERVED.test(char)) return char
    // An encoded `%` is how double encoding starts (`%2561` decodes to `%61`, then `a`), and
    // what follows it may itself be encoded (`%25%36%31`), so it is refused outright.
    if (char === '%') throw badPath('an encoded percent sign (double encoding) is refused')
    if ('/\\\0'.includes(char) || char < ' ' || char === '\x7f') {
      throw badPath('encoded slash, backslash or control character')
    }
    return match.toUpperCase()
  })
}

/**
 * The escaped bytes must spell UTF-8. Overlong forms (`%c0%ae` for `.`, `%c0%af` for `/`),
 * surrogates and stray bytes are what lenient decoders have read as characters policy never
 * saw: old IIS and Tomcat turned `/%c0%ae%c0%ae/` into `/../`.
 */
function requireUtf8(path: string): void {
  if (!/%[89A-F]/.test(path)) return
  const bytes = Buffer.from(
    path.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  )
  try {
    STRICT_UTF8.decode(bytes)
  } catch {
    throw badPath('percent-encoded bytes that are not UTF-8 are refused')
  }
}

function removeDotSegments(path: string): string {
  const segments = path.split('/').slice(1)
  const output: string[] = []
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1
    if (segment === '.' || segment === '..') {
      if (segment === '..' && output.pop() === undefined) throw badPath('the path climbs above /')
      if (last) output.push('')
      continue
    }
    output.push(segment)
  }
  return '/' + output.join('/')
}

function badPath(why: string): TollgateError {
  return new TollgateError('TOLLGATE_BAD_PATH', `the request path is refused: ${why}`)
}
