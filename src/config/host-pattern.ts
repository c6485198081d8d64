import { isIP, isIPv6 } from 'node:net'
import { hostMatches, hostPatternCovers } from '../policy/host-pattern.js'

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/
const MAX_HOST_LENGTH = 253

/**
 * The canonical spelling of a host or host pattern: lower case, no trailing dot, IPv6 without
 * brackets. The relay canonicalises request hosts the same way, so they compare as strings.
 */
export function normaliseHost(raw: string): string {
  const lower = raw.toLowerCase()
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower
  // IPv6 has many spellings; the relay matches requests on the compressed one, so rules must
  // be written down the same way or a rule for `0:0::1` would never see a request for `::1`.
  if (isIPv6(unbracketed)) return new URL(`http://[${unbracketed}]/`).hostname.slice(1, -1)
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed
}

/**
 * Why a normalised host pattern is unacceptable, or null when it is fine. Accepted: an exact
 * host name, an IP literal, `*.suffix` with at least two labels in the suffix, or `*`.
 */
export function hostPatternProblem(pattern: string): string | null {
  if (pattern === '*') return null
  if (isIP(pattern) !== 0) return null

  if (pattern.startsWith('*.')) return wildcardProblem(pattern.slice(2))
  if (pattern.includes('*')) return 'may use "*" only as a whole first label ("*.example.com")'
  return hostNameProblem(pattern)
}

/** Why a normalised exact host (no wildcard) is unacceptable, or null when it is fine. */
export function exactHostProblem(host: string): string | null {
  if (isIP(host) !== 0) return null
  return host.includes('*') ? 'must be an exact host, not a pattern' : hostNameProblem(host)
}

/**
 * Whether every host `pattern` can match is also matched by one of `bound`. A credential's
 * bound hosts are the only places its secret may travel, so a rule that could send it anywhere
 * else is refused at load time rather than trusted to match narrowly at run time.
 */
export function isPatternWithin(pattern: string, bound: readonly string[]): boolean {
  return bound.some((b) => hostPatternCovers(b, pattern))
}

/**
 * `*.example.com` matches `a.example.com` and `a.b.example.com`, but not `example.com`; `*`
 * matches anything. Matching itself is the policy engine's, so load-time checks and run-time
 * decisions cannot disagree.
 */
export function matchesWildcard(host: string, pattern: string): boolean {
  return (pattern === '*' || pattern.startsWith('*.')) && hostMatches(pattern, host)
}

function wildcardProblem(suffix: string): string | null {
  const problem = hostNameProblem(suffix)
  if (problem) return problem

  // `*.com` would let a rule (or a credential) reach a whole top-level domain; write `*` if
  // that is truly meant, so the breadth is visible to whoever reviews the file.
  return suffix.includes('.')
    ? null
    : 'is too broad: a wildcard needs at least two labels after "*."'
}

function hostNameProblem(host: string): string | null {
  if (host.length === 0 || host.length > MAX_HOST_LENGTH) return 'is not a valid host name'

  const labels = host.split('.')
  if (!labels.every((label) => LABEL.test(label))) return 'is not a valid host name'

  // Resolvers accept numeric forms such as `127.1` or `2130706433` that are not IP literals
  // by net.isIP; a rule naming one could match an address nobody meant to allow.
  const last = labels[labels.length - 1] ?? ''
  return /^(\d+|0x[0-9a-f]*)$/.test(last) ? 'is neither an IP literal nor a host name' : null
}
