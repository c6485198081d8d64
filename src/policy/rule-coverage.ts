import type { RuleConfig, Scheme } from '../config/types.js'
import { ANY_PATH_GLOB, compilePathGlob, hasWildcard } from './glob.js'
import { hostPatternCovers } from './host-pattern.js'
import { defaultPort } from './request-target.js'

const ALL_SCHEMES: readonly Scheme[] = ['http', 'https']

/**
 * Whether every request `narrower` matches is also matched by `wider`, judged from the rules'
 * text. It is conservative: when it cannot prove coverage (two different globs with wildcards,
 * say) it answers false, so lint may miss a dead rule but never reports a live one as dead.
 */
export function ruleCovers(wider: RuleConfig, narrower: RuleConfig): boolean {
  return (
    endpointsCover(wider, narrower) &&
    hostsCover(wider.hosts, narrower.hosts) &&
    methodsCover(wider.methods, narrower.methods) &&
    pathsCover(wider.paths, narrower.paths)
  )
}

/** Whether a glob list matches every path: empty, or holding `/**`. */
export function coversAllPaths(paths: readonly string[]): boolean {
  return paths.length === 0 || paths.includes(ANY_PATH_GLOB)
}

/** The (scheme, port) pairs a rule applies to, as `https:443` strings. */
function endpoints(rule: RuleConfig): Set<string> {
  const schemes = rule.schemes.length === 0 ? ALL_SCHEMES : rule.schemes
  const pairs = new Set<string>()

  for (const scheme of schemes) {
    const ports = rule.ports.length === 0 ? [defaultPort(scheme)] : rule.ports
    for (const port of ports) pairs.add(`${scheme}:${port}`)
  }
  return pairs
}

function endpointsCover(wider: RuleConfig, narrower: RuleConfig): boolean {
  const outer = endpoints(wider)
  return [...endpoints(narrower)].every((pair) => outer.has(pair))
}

function hostsCover(wider: readonly string[], narrower: readonly string[]): boolean {
  return narrower.every((host) => wider.some((pattern) => hostPatternCovers(pattern, host)))
}

function methodsCover(wider: readonly string[], narrower: readonly string[]): boolean {
  if (wider.length === 0) return true
  return narrower.length > 0 && narrower.every((method) => wider.includes(method))
}

function pathsCover(wider: readonly string[], narrower: readonly string[]): boolean {
  if (coversAllPaths(wider)) return true
  if (coversAllPaths(narrower)) return false

  return narrower.every((glob) => wider.some((outer) => globCovers(outer, glob)))
}

/**
 * `P/**` (literal P) covers any glob that can only match under P; a glob covers a literal path
 * it matches; identical globs cover each other. Anything else is not proven.
 */
function globCovers(wider: string, narrower: string): boolean {
  if (wider === narrower) return true
  if (!hasWildcard(narrower)) return compilePathGlob(wider)(narrower)

  const parent = wider.endsWith('/**') ? wider.slice(0, -3) : null
  if (parent === null || hasWildcard(parent)) return false
  return narrower === parent || narrower.startsWith(`${parent}/`)
}
