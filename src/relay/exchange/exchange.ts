import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../../observability/logger.js'
import type { ErrorCode } from '../../errors/codes.js'
import type { AuditLog } from '../../audit/audit-log.js'
import type { TokenStore } from '../../identity/token-store.js'
import type { SecretStore } from '../../secrets/secret-store.js'
import type { Decision, RequestTarget } from '../../policy/request-target.js'
import type { Caller } from '../identify.js'
import type { RelayStateHolder } from '../relay-state.js'
import type { UpstreamPool } from '../upstream-pool.js'
import type { RelayMetrics } from '../../control-plane/metrics.js'
import type { UpgradeRequest } from './forward-upgrade.js'

export type ListenerKind = 'forward' | 'tunnel' | 'reverse'

/** What every relay listener shares: the parts a request passes through. */
export interface RelayDeps {
  state: RelayStateHolder
  tokens: TokenStore
  secrets: SecretStore
  audit: AuditLog
  upstreams: UpstreamPool
  metrics: RelayMetrics
  logger: Logger
}

/**
 * One request on its way through the relay, filled in step by step. Whatever is known when the
 * request ends — decided, refused or failed — is what the audit event and the log line say.
 */
export interface Exchange {
  id: string
  listener: ListenerKind
  startedAt: number
  req: IncomingMessage
  res: ServerResponse
  caller: Caller | null
  target: RequestTarget | null
  /** Raw query string (with `?`) forwarded as sent; only its redacted form is recorded. */
  query: string
  /** The policy version the decision was made under. */
  version: string | null
  decision: Decision | null
  credentials: string[]
  code: ErrorCode | null
  status: number | null
  bytesIn: number
  bytesOut: number
  upstreamError: string | null
  /** Request headers never forwarded here (e.g. the agent's token on reverse routes). */
  dropHeaders: ReadonlySet<string>
  /** Whether the request was handed to the upstream (its decision event is already written). */
  forwarded: boolean
  /** Set for protocol upgrade requests (WebSocket): the raw socket to join to the upstream. */
  upgrade: UpgradeRequest | null
}

export function newExchange(
  listener: ListenerKind,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Exchange {
  return {
    id,
    listener,
    startedAt: performance.now(),
    req,
    res,
    caller: null,
    target: null,
    query: '',
    version: null,
    decision: null,
    credentials: [],
    code: null,
    status: null,
    bytesIn: 0,
    bytesOut: 0,
    upstreamError: null,
    dropHeaders: NO_HEADERS,
    forwarded: false,
    upgrade: null,
  }
}

const NO_HEADERS: ReadonlySet<string> = new Set()
