import type { CredentialConfig } from '../config/types.js'
import { hostMatches } from '../policy/host-pattern.js'
import type { OutgoingRequest } from './credential-injector.js'

/** Upstreams that decode twice exist; more rounds than this is not a real URL. */
const MAX_DECODE_ROUNDS = 4

/**
 * Whether `cred` may be sent to `host`. A pattern is an exact host or `*.suffix`, which matches
 * any host below the suffix but not the suffix itself: `*.x.com` matches `api.x.com`, not
 * `x.com`. A bare `*` matches nothing, so no credential can be bound to every host.
 */
export function isHostBound(cred: CredentialConfig, host: string): boolean {
  const target = normaliseHost(host)
  if (target === '') return false
  return cred.hosts.some((pattern) => matchesHostPattern(normaliseHost(pattern), target))
}

/**
 * The placeholder credentials whose placeholder appears anywhere in the request: in a header
 * value or in the path and query, as sent or percent-decoded. The relay denies a request that
 * carries a placeholder to a host its credential is not bound to: that is an agent trying to
 * have the secret swapped in somewhere it may not go.
 *
 * @example
 * ```ts
 * const misused = findPlaceholders(config.credentials, req)
 *   .filter((cred) => !isHostBound(cred, target.host))
 * if (misused.length > 0) throw new TollgateError('TOLLGATE_PLACEHOLDER_MISUSE')
 * ```
 */
export function findPlaceholders(
  credentials: readonly CredentialConfig[],
  req: OutgoingRequest,
): CredentialConfig[] {
  const texts = searchableTexts(req)
  return credentials.filter((cred) => {
    const placeholder = placeholderOf(cred)
    return placeholder !== null && texts.some((text) => text.includes(placeholder))
  })
}

/**
 * Decodes `%XX` runs without throwing: a malformed escape elsewhere (`%zz`) must not stop a
 * well-formed one from being decoded. Invalid UTF-8 becomes U+FFFD.
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  )
}

function placeholderOf(cred: CredentialConfig): string | null {
  const inject = cred.inject
  return inject.kind === 'placeholder' && inject.placeholder !== '' ? inject.placeholder : null
}

function searchableTexts(req: OutgoingRequest): string[] {
  const texts = [req.pathAndQuery]
  for (const value of Object.values(req.headers)) {
    if (Array.isArray(value)) texts.push(...value)
    else texts.push(value)
  }

  // An upstream decodes what the relay passes on, so the decoded forms count as sent.
  return texts.flatMap(decodedForms)
}

function decodedForms(text: string): string[] {
  const forms = [text]
  let current = text
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = percentDecode(current)
    if (next === current) break
    forms.push(next)
    current = next
  }
  return forms
}

// The policy engine's matching, except that a bare `*` binds nothing.
function matchesHostPattern(pattern: string, host: string): boolean {
  return pattern !== '*' && hostMatches(pattern, host)
}

function normaliseHost(host: string): string {
  const lower = host.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}
