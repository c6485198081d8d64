import type { CompiledRule } from './compiled-rule.js'
import { isAnyHost, isSuffixPattern, suffixDomain } from './host-pattern.js'

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

  /** Adds a rule under each of its host patterns. Rules must be added in declaration order. */
  add(rule: CompiledRule): void {
    for (const pattern of rule.hosts) {
      if (isAnyHost(pattern)) pushOnce(this.#any, rule)
      else if (isSuffixPattern(pattern)) pushInto(this.#suffix, suffixDomain(pattern), rule)
      else pushInto(this.#exact, pattern, rule)
    }
  }

  /** The first rule, in declaration order, whose host pattern matches `host` and passes `test`. */
  first<T>(host: string, test: RuleTest<T>, input: T): CompiledRule | null {
    let best = scan(this.#exact.get(host), null, test, input)

    if (this.#suffix.size > 0) best = this.#scanParents(host, best, test, input)

    return scan(this.#any, best, test, input)
  }

  /** Walks `a.b.c.com` as `b.c.com`, `c.com`, `com`: never the host itself (no apex match). */
  #scanParents<T>(
    host: string,
    best: CompiledRule | null,
    test: RuleTest<T>,
    input: T,
  ): CompiledRule | null {
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      best = scan(this.#suffix.get(host.slice(dot + 1)), best, test, input)
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

function pushInto(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const bucket = map.get(key)
  if (bucket === undefined) map.set(key, [rule])
  else pushOnce(bucket, rule)
}

/** A rule listing two patterns that land in the same bucket is stored there once. */
function pushOnce(bucket: CompiledRule[], rule: CompiledRule): void {
  if (bucket[bucket.length - 1] !== rule) bucket.push(rule)
}
