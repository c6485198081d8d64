import { TollgateError } from '../errors/tollgate-error.js'
import type { Directory, AgentIdentity } from '../identity/directory.js'
import type { TokenStore } from '../identity/token-store.js'

/** Who is making a request: the agent, its owner and team, and the token that proved it. */
export interface Caller extends AgentIdentity {
  tokenId: string
  sandboxId: string | null
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
  const space = value.indexOf(' ')
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
): Caller {
  const record = tokens.verify(credentials.token)
  if (!record) throw new TollgateError('TOLLGATE_AUTH_INVALID')
  if (credentials.agent !== null && credentials.agent !== record.agent) {
    throw new TollgateError('TOLLGATE_AUTH_AGENT_MISMATCH')
  }

  const identity = directory.resolveAgent(record.agent)
  if (!identity) {
    throw new TollgateError('TOLLGATE_AUTH_INVALID', 'the token belongs to an agent not in config')
  }
  return { ...identity, tokenId: record.id, sandboxId: null }
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
