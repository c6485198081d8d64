import { didYouMean } from '../config/suggest.js'
import type { PolicyConfig } from '../config/types.js'
import { TollgateError } from '../errors/tollgate-error.js'

/**
 * Checks the policy names of a sandbox overlay (`tollgate run --policy`) against the
 * configuration, before any box is started: a misspelt name would otherwise deny everything
 * the box does, which looks like a broken agent rather than a typo.
 *
 * @throws TollgateError TOLLGATE_INVALID_ARGUMENT naming the first unknown policy.
 */
export function requireOverlayPolicies(
  names: readonly string[],
  policies: readonly PolicyConfig[],
): void {
  const declared = policies.map((policy) => policy.name)
  const unknown = names.find((name) => !declared.includes(name))
  if (unknown === undefined) return

  const hint = didYouMean(unknown, declared)
  throw new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    `--policy ${unknown}: no policy of that name in the configuration${hint}`,
  )
}
