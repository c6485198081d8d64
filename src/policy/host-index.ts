import { isIP } from 'node:net'
import type { CompiledRule } from './compiled-rule.js'
import { isAnyHost, isSuffixPattern, suffixDomain } from './host-pattern.js'

/**
 * A host and its parent domains (`a.b.com` → `b.com`, `com`), split once per decision and shared
 * by every index lookup: the slices are made, and their hashes computed, only once.
 */
export interface HostKeys {
  name: string
  /** Never the host itself, so a suffix pattern cannot match its apex. */
  parents: readonly string[]
}

export function hostKeys(host: string): HostKeys {
  const parents: string[] = []
  // An IP literal has no parent domains: `*.0.1` must not match 127.0.0.1.
  if (isIP(host) !== 0) return { name: host, parents }
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    parents.push(host.slice(dot + 1))
  }
  return { name: host, parents }
}

/**
 * A test applied to each candidate rule. It takes its input as a separate argument, rather
 * than closing over it, so the request path can pass a module-level function and allocate
 * nothing per decision.
 */
export type RuleTest<T> = (rule: CompiledRule, input: T) => boolean

/**
 * Rules of one policy and one effect, indexed by host pattern: exact names in one map, suffix
 * patterns in another keyed by their domain, and `*` in a bucket of its own. A lookup touches
 * the exact bucket, one bucket per parent domain of the host, and the `*` bucket, so its cost
 * follows the number of labels in the host, not the number of rules.
 */
export class HostIndex {
  readonly #exact = new Map<string, CompiledRule[]>()
  readonly #suffix = new Map<string, CompiledRule[]>()
  readonly #any: CompiledRule[] = []
  /**
   * Bit n set when some suffix pattern's domain has n labels. Parents of other depths cannot be
   * in the suffix map, so their lookups (hashing a fresh slice each) are skipped.
   */
  #suffixDepths = 0

  /** Adds a rule under each of its host patterns. Rules must be added in declaration order. */
  add(rule: CompiledRule): void {
    for (const pattern of rule.hosts) {
      if (isAnyHost(pattern)) pushOnce(this.#any, rule)
      else if (isSuffixPattern(pattern)) this.#addSuffix(suffixDomain(pattern), rule)
      else pushInto(this.#exact, pattern, rule)
    }
  }

  #addSuffix(domain: string, rule: CompiledRule): void {
    pushInto(this.#suffix, domain, rule)
    this.#suffixDepths |= depthBit(labelCount(domain))
  }

  /** The first rule, in declaration order, whose host pattern matches and that passes `test`. */
  first<T>(host: HostKeys, test: RuleTest<T>, input: T): CompiledRule | null {
    let best = this.#exact.size === 0 ? null : scan(this.#exact.get(host.name), null, test, input)

    if (this.#suffixDepths !== 0) best = this.#scanParents(host.parents, best, test, input)

    return scan(this.#any, best, test, input)
  }

  #scanParents<T>(
    parents: readonly string[],
    best: CompiledRule | null,
    test: RuleTest<T>,
    input: T,
  ): CompiledRule | null {
    // parents[i] has `parents.length - i` labels: `b.com` then `com`.
    for (let i = 0; i < parents.length; i++) {
      if ((this.#suffixDepths & depthBit(parents.length - i)) === 0) continue
      best = scan(this.#suffix.get(parents[i]!), best, test, input)
    }
    return best
  }
}

/**
 * Returns the earlier of `best` and the first rule in `bucket` that passes. Buckets are in
 * declaration order, so the scan stops as soon as it reaches a rule declared after `best`.
 */
function scan<T>(
  bucket: readonly CompiledRule[] | undefined,
  best: CompiledRule | null,
  test: RuleTest<T>,
  input: T,
): CompiledRule | null {
  if (bucket === undefined) return best

  for (const rule of bucket) {
    if (best !== null && rule.order >= best.order) return best
    if (test(rule, input)) return rule
  }
  return best
}

function labelCount(domain: string): number {
  let count = 1
  for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) count++
  return count
}

/** Depths beyond 31 labels share the top bit: they are only looked up, never skipped wrongly. */
function depthBit(labels: number): number {
  return 1 << Math.min(labels, 31)
}

function pushInto(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const bucket = map.get(key)
  if (bucket === undefined) map.set(key, [rule])
  else pushOnce(bucket, rule)
}

/** A rule listing two patterns that land in the same bucket is stored there once. */
function pushOnce(bucket: CompiledRule[], rule: CompiledRule): void {
  if (bucket[bucket.length - 1] !== rule) bucket.push(rule)
}
