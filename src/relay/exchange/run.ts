import { TollgateError, isTollgateError } from '../../errors/tollgate-error.js'
import type { CredentialConfig } from '../../config/types.js'
import type { SecretValue } from '../../secrets/secret-value.js'
import { percentDecode } from '../../secrets/credential-binding.js'
import { holdsToken } from '../../identity/token-format.js'
import {
  findPlaceholders,
  injectCredential,
  isHostBound,
} from '../../secrets/credential-injector.js'
import { forwardableHeaders } from '../http/headers.js'
import { sendError } from '../http/error-response.js'
import type { RelayState } from '../relay-state.js'
import type { Exchange, RelayDeps } from './exchange.js'
import { recordDecision } from './record.js'
import { forwardExchange, type Outgoing } from './forward.js'
import { forwardUpgrade } from './forward-upgrade.js'
import { overriddenMethods } from './method-override.js'
import { overriddenPaths } from './path-override.js'
import type { NormalisedPath } from '../target/path.js'
import { overrideScannerFor } from './body-override.js'
import { isBufferedSwap, readSwappedBody, type BodySwap, type RequestBody } from './request-body.js'
import { refuseDeclaredOversize } from '../limits/body-limit.js'
import { contentCodingOf } from '../http/content-coding.js'
import { hasRequestBody } from '../limits/request-deadline.js'

/**
 * Steps 4–8 of the request flow for an identified caller and a canonical target: decide,
 * refuse exfiltration, pick the credential, record durably, inject, forward. Any refusal is a
 * TollgateError, answered by `refuseExchange`.
 */
export async function relayExchange(deps: RelayDeps, ex: Exchange): Promise<void> {
  const state = deps.state.current
  const { caller, target } = requireIdentified(ex)
  ex.version = state.version
  ex.decision = state.engine.decide(caller.agent, target, caller.overlay)

  const outgoing = buildOutgoing(ex)
  refuseStrayPlaceholders(state, ex, outgoing)
  refuseOutgoingTokens(outgoing)
  if (ex.decision.kind === 'deny') throw denial(ex)
  const overridden = refuseForbiddenOverrides(state, ex)
  if (ex.upgrade) requireAllowedUpgrade(ex)
  const credential = credentialFor(deps, state, ex)
  const limits = state.loaded.config.server.limits
  refuseDeclaredOversize(ex, limits.requestBodyBytes)
  const body = requestBody(state, ex, credential, overridden, limits.requestBodyBytes)

  await recordDecision(deps, ex).catch((cause: unknown) => {
    throw new TollgateError('TOLLGATE_AUDIT_UNAVAILABLE', undefined, { cause })
  })
  // An agent that left while the decision was being written gets nothing sent on its behalf:
  // half a body streamed upstream would hold an upstream connection until it timed out.
  if (ex.req.destroyed && !ex.req.complete) return

  const scrub = credential ? inject(ex, outgoing, credential) : []
  if (ex.upgrade) {
    forwardUpgrade(deps, ex, outgoing, scrub)
    return
  }
  // Node leaves 100-continue to us: the agent sends its body only after the decision.
  if (ex.req.headers.expect?.toLowerCase() === '100-continue') ex.res.writeContinue()
  if (body && isBufferedSwap(ex.req, body)) {
    if (!(await readSwappedBody(ex, body, outgoing.headers))) return
  }
  forwardExchange(deps, ex, outgoing, scrub, body)
}

/** What happens to the request's body on its way up; null when it has none. */
function requestBody(
  state: RelayState,
  ex: Exchange,
  credential: ResolvedCredential | null,
  overridden: readonly NormalisedPath[],
  limitBytes: number,
): RequestBody | null {
  if (!hasRequestBody(ex.req)) return null
  // Most configurations have no placeholder credential; then no body is searched for one.
  const withPlaceholders = state.placeholders.length > 0
  const stray = withPlaceholders ? strayPlaceholders(state, ex) : []
  const swap = withPlaceholders && credential ? bodySwap(credential) : null
  const scanner = overrideScannerFor(ex.req)
  const override = scanner ? { scanner, refuse: overrideRefusal(state, ex, overridden) } : null

  // Every body is watched for tokens (`TokenWatch`), and a coding the relay cannot undo would
  // hide one, or a placeholder, from the watch and the swap.
  const coding = contentCodingOf(ex.req.headers['content-encoding'])
  if (coding === undefined) throw new TollgateError('TOLLGATE_BODY_ENCODING')
  return { stray, swap, coding, override, limitBytes, buffered: null }
}

/** Placeholders that must not appear in this request's body: those bound to other hosts. */
function strayPlaceholders(state: RelayState, ex: Exchange): string[] {
  const host = ex.target?.host ?? ''
  const stray: string[] = []
  for (const credential of state.placeholders) {
    const { inject } = credential
    if (inject.kind === 'placeholder' && !isHostBound(credential, host)) {
      stray.push(inject.placeholder)
    }
  }
  return stray
}

/** The allowing credential's placeholder is swapped in the body too (decoded first if need be). */
function bodySwap(credential: ResolvedCredential): BodySwap | null {
  const { inject } = credential.config
  if (inject.kind !== 'placeholder' || inject.placeholder === '') return null
  return {
    placeholder: Buffer.from(inject.placeholder),
    secret: Buffer.from(credential.secret.reveal()),
  }
}

/**
 * A method- or path-override header (or a method parameter) is allowed only if the method
 * and path it names would be allowed on their own: otherwise a POST rule becomes a DELETE,
 * and a rule for `/public` reaches `/admin`, on upstreams that honour them. Every path the
 * upstream might act on is decided with every method it might act with. Returns the paths the
 * overrides name, for the body's `_method` check.
 */
function refuseForbiddenOverrides(state: RelayState, ex: Exchange): NormalisedPath[] {
  const { target } = requireIdentified(ex)
  const paths = overriddenPaths(ex.req, target.path)
  const queries = paths.map((path) => path.query.slice(1))
  const methods = overriddenMethods(ex.req, [ex.query, ...queries].join('&'))
  if (methods.length === 0 && paths.length === 0) return paths
  const refusal = overrideRefusal(state, ex, paths)
  for (const method of paths.length > 0 ? [target.method, ...methods] : methods) {
    const error = refusal(method)
    if (error) throw error
  }
  return paths
}

/**
 * The refusal for a method an override names, on the request's path and on every path an
 * override names, or null where the policy allows them all. The body scanner calls it for a
 * `_method` field found as the body streams.
 */
function overrideRefusal(
  state: RelayState,
  ex: Exchange,
  overridden: readonly NormalisedPath[],
): (method: string) => TollgateError | null {
  const { caller, target } = requireIdentified(ex)
  const paths = [target.path, ...overridden.map((path) => path.path)]
  return (method) => {
    for (const path of paths) {
      const decision = state.engine.decide(
        caller.agent,
        { ...target, method, path },
        caller.overlay,
      )
      if (decision.kind !== 'deny') continue
      const what = path === target.path ? 'a method' : 'a path'
      return new TollgateError(
        decision.code ?? 'TOLLGATE_POLICY_DENIED',
        `an override names ${what} the policy does not allow here`,
      )
    }
    return null
  }
}

/** Upgrades pass only as WebSocket, and only where the allowing rule says so. */
function requireAllowedUpgrade(ex: Exchange): void {
  const protocol = ex.req.headers.upgrade?.toLowerCase()
  if (protocol === 'websocket' && ex.decision?.kind === 'allow' && ex.decision.websocket) return
  throw new TollgateError('TOLLGATE_UPGRADE_DENIED')
}

/** Answers a refused or failed exchange with the relay's JSON error. */
export function refuseExchange(deps: RelayDeps, ex: Exchange, error: unknown): void {
  const known = isTollgateError(error)
  if (!known) deps.logger.error({ err: error, requestId: ex.id }, 'unexpected relay error')
  const failure = known ? error : new TollgateError('TOLLGATE_INTERNAL')
  // The agent sees only the code; the operator needs the reason (a wrong master key, a full disk).
  if (known && failure.status >= 500) {
    deps.logger.error(
      { requestId: ex.id, code: failure.code, err: failure.cause },
      'refused: relay fault',
    )
  }

  const asOrigin = ex.listener === 'reverse'
  ex.code = failure.code
  ex.status = failure.status === 407 && asOrigin ? 401 : failure.status
  sendError(ex.res, {
    code: failure.code,
    message: failure.publicMessage,
    requestId: ex.id,
    rule: ex.decision?.rule?.id ?? null,
    asOrigin,
  })
}

function requireIdentified(ex: Exchange) {
  const { caller, target } = ex
  if (!caller || !target) throw new TollgateError('TOLLGATE_INTERNAL')
  return { caller, target }
}

function buildOutgoing(ex: Exchange): Outgoing {
  return {
    headers: forwardableHeaders(ex.req.rawHeaders, ex.dropHeaders),
    pathAndQuery: (ex.target?.path ?? '/') + ex.query,
  }
}

/**
 * A placeholder stands in for a real secret only on the hosts its credential is bound to. Seen
 * on its way anywhere else, it is what a prompt-injected agent exfiltrating "its key" looks
 * like: refuse and record it as such.
 */
function refuseStrayPlaceholders(state: RelayState, ex: Exchange, outgoing: Outgoing): void {
  // Most configurations have no placeholder credential; then there is nothing to search for.
  if (state.placeholders.length === 0) return
  const host = ex.target?.host ?? ''
  const stray = findPlaceholders(state.placeholders, outgoing).find((c) => !isHostBound(c, host))
  if (!stray) return
  ex.credentials = [stray.name]
  throw new TollgateError(
    'TOLLGATE_PLACEHOLDER_MISUSE',
    `the placeholder of credential ${stray.name} may not be sent to this host`,
  )
}

/**
 * A Tollgate token proves an agent to the relay and to nobody else. A prompt-injected agent
 * told to send "its credentials" somewhere would put it in a header or the URL, and whoever
 * received it could use the relay as that agent. Percent-encoding does not hide it: the
 * upstream would decode it.
 */
function refuseOutgoingTokens(outgoing: Outgoing): void {
  if (!holdsTokenAnywhere(outgoing)) return
  throw new TollgateError('TOLLGATE_TOKEN_EXFILTRATION')
}

function holdsTokenAnywhere(outgoing: Outgoing): boolean {
  const { pathAndQuery, headers } = outgoing
  if (holdsToken(pathAndQuery) || holdsToken(percentDecode(pathAndQuery))) return true
  for (const name of Object.keys(headers)) {
    const value = headers[name] ?? ''
    const values = Array.isArray(value) ? value : [value]
    if (values.some((item) => holdsToken(item) || holdsToken(percentDecode(item)))) return true
  }
  return false
}

function denial(ex: Exchange): TollgateError {
  const rule = ex.decision?.rule?.id
  if (ex.decision?.code === 'TOLLGATE_POLICY_NO_MATCH' || !rule) {
    return new TollgateError('TOLLGATE_POLICY_NO_MATCH')
  }
  return new TollgateError('TOLLGATE_POLICY_DENIED', `denied by policy rule ${rule}`)
}

interface ResolvedCredential {
  config: CredentialConfig
  secret: SecretValue
}

function credentialFor(
  deps: RelayDeps,
  state: RelayState,
  ex: Exchange,
): ResolvedCredential | null {
  const name = ex.decision?.credential
  if (!name || !ex.target) return null
  const config = state.credentials.get(name)
  if (!config || !isHostBound(config, ex.target.host)) {
    throw new TollgateError('TOLLGATE_SECRET_UNAVAILABLE', `credential ${name} is not usable here`)
  }
  if (ex.target.scheme !== 'https' && !ex.decision?.allowPlaintextCredential) {
    throw new TollgateError('TOLLGATE_CREDENTIAL_PLAINTEXT')
  }

  const secret = deps.secrets.get(config.secret)
  if (!secret) {
    throw new TollgateError(
      'TOLLGATE_SECRET_UNAVAILABLE',
      `secret for credential ${name} is not set`,
    )
  }
  return { config, secret }
}

function inject(
  ex: Exchange,
  outgoing: Outgoing,
  credential: ResolvedCredential,
): readonly string[] {
  const { scrubValues } = injectCredential(credential.config, credential.secret, outgoing)
  ex.credentials = [credential.config.name]
  // Scrubbing reads the response body, which it cannot do through compression.
  outgoing.headers['accept-encoding'] = 'identity'
  return scrubValues
}
