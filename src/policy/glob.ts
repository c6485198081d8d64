/**
 * Path globs of policy rules. Each glob is compiled once, when the policy is loaded, into the
 * cheapest test that is exact for it: a string compare, a prefix check or one anchored RegExp.
 */

/** Tests a normalised request path (starts with `/`, no query) against one compiled glob. */
export type PathMatcher = (path: string) => boolean

/** The glob that matches every path; `paths: []` in a rule means the same. */
export const ANY_PATH_GLOB = '/**'

const TREE_SUFFIX = '/**'

const REGEXP_META = /[\\^$.*+?()[\]{}|]/g

/** Whether the glob contains a wildcard (`*` or `**`); a glob without one is an exact path. */
export function hasWildcard(glob: string): boolean {
  return glob.includes('*')
}

/**
 * Compiles a path glob. `*` matches within one segment (never `/`); `**` matches any run of
 * characters, `/` included. A trailing `/**` also matches the parent itself, so `/repos/**`
 * matches `/repos`, `/repos/` and `/repos/a/b`. Every other character is literal.
 *
 * @example
 * const matches = compilePathGlob('/repos/*')
 * matches('/repos/x') // true
 * matches('/repos/x/y') // false: `*` stays within one segment
 */
export function compilePathGlob(glob: string): PathMatcher {
  if (glob === ANY_PATH_GLOB) return matchAnyPath

  if (!hasWildcard(glob)) return (path) => path === glob

  const parent = treeParent(glob)
  if (parent !== null) return matchTree(parent)

  const pattern = globToRegExp(glob)
  return (path) => pattern.test(path)
}

/** The anchored RegExp equivalent of a glob; exported so tests can compare both forms. */
export function globToRegExp(glob: string): RegExp {
  if (glob.endsWith(TREE_SUFFIX)) {
    const body = translate(glob.slice(0, -TREE_SUFFIX.length))
    return new RegExp(`^${body}(?:/.*)?$`, 's')
  }

  // `s` (dotAll) so `**` also crosses characters a path should never hold, such as a newline:
  // a deny rule must not be dodged by an odd byte the normaliser let through.
  return new RegExp(`^${translate(glob)}$`, 's')
}

function matchAnyPath(): boolean {
  return true
}

/** For `P/**` with a literal P, returns P; the match is then a prefix check, not a RegExp. */
function treeParent(glob: string): string | null {
  if (!glob.endsWith(TREE_SUFFIX)) return null

  const parent = glob.slice(0, -TREE_SUFFIX.length)
  return hasWildcard(parent) ? null : parent
}

function matchTree(parent: string): PathMatcher {
  const prefix = `${parent}/`
  return (path) => path === parent || path.startsWith(prefix)
}

function translate(glob: string): string {
  return glob
    .split(/(\*\*|\*)/)
    .map((part) => {
      if (part === '**') return '.*'
      if (part === '*') return '[^/]*'
      return part.replace(REGEXP_META, '\\$&')
    })
    .join('')
}
