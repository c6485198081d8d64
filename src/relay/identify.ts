import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { TollgateError } from '../errors/tollgate-error.js'
import type { Directory, AgentIdentity } from '../identity/directory.js'
import type { TokenStore } from '../identity/token-store.js'
import { singleHeader } from './http/headers.js'
import type { ConnectionKind, ConnectionRegistry } from './connection-registry.js'
import type { RelayStateHolder } from './relay-state.js'

/**
 * Who is making a request: the agent, its owner and team, and what proved it — a token
 * (`tokenId`) on the shared proxy, or the sandbox whose private listener it came through
 * (`sandboxId`, with no token at all).
 */
export interface Caller extends AgentIdentity {
  tokenId: string | null
  sandboxId: string | null
  /**
   * The sandbox's policy overlay: names of policies that narrow the agent's own for every
   * request of this caller. Absent for token callers.
   */
  overlay?: readonly string[]
}

/** The caller's fields of an audit event, each null when nobody was identified. */
export function callerAuditFields(caller: Caller | null | undefined) {
  return {
    agent: caller?.agent ?? null,
    owner: caller?.owner ?? null,
    team: caller?.team ?? null,
    token_id: caller?.tokenId ?? null,
    sandbox_id: caller?.sandboxId ?? null,
  }
}

/** A caller proved by a token (the shared proxy, reverse routes). */
export interface TokenCaller extends Caller {
  tokenId: string
}

/**
 * The caller as the configuration in force sees it: its agent's owner and team now, with what
 * proved it (token, sandbox, overlay) unchanged; null once the agent is gone. For callers
 * identified once and trusted for longer, such as a CONNECT tunnel's.
 */
export function currentCaller(caller: Caller, directory: Directory): Caller | null {
  const identity = directory.resolveAgent(caller.agent)
  if (identity === null) return null
  // Nearly always unchanged: the caller itself, not a copy per request.
  if (identity.owner === caller.owner && identity.team === caller.team) return caller
  return { ...caller, ...identity }
}

/**
 * The refusal of a valid token presented under another agent's name. The request stays
 * unauthenticated (407); the error carries the token's own caller so that the audit event can
 * say whose token was used with the wrong name. That caller goes to the trail and the log,
 * never into the answer: it would tell whoever holds a copied token which agent it belongs to.
 */
export class AgentMismatchError extends TollgateError {
  readonly tokenCaller: TokenCaller

  constructor(tokenCaller: TokenCaller) {
    super('TOLLGATE_AUTH_AGENT_MISMATCH')
    this.tokenCaller = tokenCaller
  }
}

/**
 * Whom a refusal of identification names without authenticating them: the token's own agent
 * for `AgentMismatchError`, else null. For the audit event and the log line only.
 */
export function refusedCaller(error: unknown): Caller | null {
  return error instanceof AgentMismatchError ? error.tokenCaller : null
}

/**
 * How a forward-proxy listener knows who is calling. The shared proxy reads a token from
 * `Proxy-Authorization`; a sandbox's listener knows its caller before the first byte, because
 * only that sandbox can reach its socket.
 */
export interface CallerIdentifier {
  /** The caller of a request or CONNECT; throws a 407-class error when it is unknown. */
  identify(req: IncomingMessage): Caller
  /** Whether a caller identified earlier (a tunnel's) may still send requests. */
  isLive(caller: Caller): boolean
  /**
   * Remembers the connection so that revoking the caller can cut it at once; refuses one past
   * the agent's connection or tunnel cap.
   */
  track(caller: Caller, socket: Duplex, kind: ConnectionKind): void
}

/** The shared forward proxy's identification: a token in every request or CONNECT. */
export function tokenIdentifier(parts: {
  tokens: TokenStore
  state: RelayStateHolder
  connections: ConnectionRegistry
}): CallerIdentifier {
  const { tokens, state, connections } = parts
  return {
    identify: (req) => {
      const header = singleHeader(req.rawHeaders, 'proxy-authorization')
      return authenticate(parseProxyAuthorization(header), tokens, state.current.directory)
    },
    isLive: (caller) =>
      caller.tokenId !== null &&
      tokens.isLive(caller.tokenId) &&
      state.current.directory.hasAgent(caller.agent),
    track: (caller, socket, kind) => {
      if (caller.tokenId !== null) connections.track(caller.tokenId, caller.agent, socket, kind)
    },
  }
}

interface Credentials {
  agent: string | null
  token: string
}

/**
 * Reads `Proxy-Authorization`. Basic carries `AGENT:TOKEN`, which is what
 * `HTTPS_PROXY=http://AGENT:TOKEN@host:port` makes every common client send; Bearer carries the
 * token alone.
 */
export function parseProxyAuthorization(value: string | null): Credentials {
  if (value === null) throw new TollgateError('TOLLGATE_AUTH_REQUIRED')
  // Without a space there is no scheme at all; sliced anyway, `BasicX` would read as Basic.
  const space = value.indexOf(' ')
  if (space < 0) throw new TollgateError('TOLLGATE_AUTH_REQUIRED')
  const scheme = value.slice(0, space).toLowerCase()
  const param = value.slice(space + 1).trim()

  if (scheme === 'bearer') return { agent: null, token: param }
  if (scheme !== 'basic') throw new TollgateError('TOLLGATE_AUTH_REQUIRED')
  const decoded = Buffer.from(param, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw new TollgateError('TOLLGATE_AUTH_INVALID')
  return { agent: decodeURIComponentSafe(decoded.slice(0, colon)), token: decoded.slice(colon + 1) }
}

/** Reads the agent's token from the API-key header an SDK sends on a reverse route. */
export function parseApiKeyToken(authorization: string | null, apiKey: string | null): Credentials {
  if (apiKey !== null) return { agent: null, token: apiKey.trim() }
  if (authorization === null) throw new TollgateError('TOLLGATE_AUTH_REQUIRED')
  const match = /^bearer\s+(\S+)$/i.exec(authorization.trim())
  if (!match?.[1]) throw new TollgateError('TOLLGATE_AUTH_REQUIRED')
  return { agent: null, token: match[1] }
}

/** Checks the token against the store and the agent against the current directory. */
export function authenticate(
  credentials: Credentials,
  tokens: TokenStore,
  directory: Directory,
): TokenCaller {
  const record = tokens.verify(credentials.token)
  if (!record) throw new TollgateError('TOLLGATE_AUTH_INVALID')
  // A token dies with its agent, whatever name it comes with.
  const identity = directory.resolveAgent(record.agent)
  if (!identity) {
    throw new TollgateError('TOLLGATE_AUTH_INVALID', 'the token belongs to an agent not in config')
  }

  const caller = { ...identity, tokenId: record.id, sandboxId: null }
  if (credentials.agent !== null && credentials.agent !== record.agent) {
    throw new AgentMismatchError(caller)
  }
  return caller
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
