import { isIP } from 'node:net'
/**
 * Host patterns of policy rules and credentials: an exact name (`api.github.com`), a suffix
 * pattern (`*.github.com`, any subdomain at any depth but never the apex `github.com`) or the
 * bare `*` (any host). Patterns and hosts are both lower case without a trailing dot.
 */

/** The pattern that matches every host. */
export const ANY_HOST = '*'

const SUFFIX_MARK = '*.'

export function isAnyHost(pattern: string): boolean {
  return pattern === ANY_HOST
}

export function isSuffixPattern(pattern: string): boolean {
  return pattern.startsWith(SUFFIX_MARK) && pattern.length > SUFFIX_MARK.length
}

/** The domain under a suffix pattern: `github.com` for `*.github.com`. */
export function suffixDomain(pattern: string): string {
  return pattern.slice(SUFFIX_MARK.length)
}

/** Whether `host` is matched by `pattern`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (isAnyHost(pattern)) return true

  if (!isSuffixPattern(pattern)) return pattern === host

  // `.github.com`, dot included, so `evilgithub.com` and the apex `github.com` do not match;
  // an IP literal is an address, not a name below a domain.
  const dotted = pattern.slice(1)
  return host.length > dotted.length && host.endsWith(dotted) && isIP(host) === 0
}

/**
 * Whether every host `narrower` matches is also matched by `wider`: `*` covers everything,
 * `*.x.com` covers `a.x.com` and `*.a.x.com`, an exact name covers only itself.
 */
export function hostPatternCovers(wider: string, narrower: string): boolean {
  if (isAnyHost(wider)) return true
  if (isAnyHost(narrower)) return false

  if (!isSuffixPattern(narrower)) return hostMatches(wider, narrower)
  if (!isSuffixPattern(wider)) return false

  const outer = suffixDomain(wider)
  const inner = suffixDomain(narrower)
  return inner === outer || inner.endsWith(`.${outer}`)
}

/** Whether a suffix pattern names a single label (`*.com`), i.e. a whole top-level domain. */
export function isTopLevelSuffix(pattern: string): boolean {
  return isSuffixPattern(pattern) && !suffixDomain(pattern).includes('.')
}
