import {
  DEFAULT_CONNECTIONS,
  DEFAULT_CONNECTIONS_PER_AGENT,
  DEFAULT_DECODED_RESPONSE_BYTES,
  DEFAULT_REQUEST_BODY_BYTES,
  DEFAULT_TUNNELS_PER_AGENT,
  DEFAULT_UNAUTHENTICATED_AUDIT,
  DEFAULT_UNAUTHENTICATED_CONNECTIONS,
  DEFAULT_UNAUTHENTICATED_PER_ADDRESS,
  MAX_TIMER_MS,
} from './defaults.js'
import { isDuration, parseDuration } from './duration.js'
import type { IssueList } from './issue-list.js'
import type {
  RawDuration,
  RawLimits,
  RawRateLimit,
  RawSize,
  RawUnauthenticatedAudit,
} from './raw-config.js'
import { isSize, parseSize } from './size.js'
import type { LimitsConfig, RateLimitConfig, UnauthenticatedAuditConfig } from './types.js'

/** `server.limits` with its defaults. Caps that contradict each other are reported. */
export function convertLimits(raw: RawLimits = {}, issues: IssueList): LimitsConfig {
  const limits: LimitsConfig = {
    connectionsPerAgent: raw.connectionsPerAgent ?? DEFAULT_CONNECTIONS_PER_AGENT,
    tunnelsPerAgent: raw.tunnelsPerAgent ?? DEFAULT_TUNNELS_PER_AGENT,
    connections: raw.connections ?? DEFAULT_CONNECTIONS,
    unauthenticatedConnections:
      raw.unauthenticatedConnections ?? DEFAULT_UNAUTHENTICATED_CONNECTIONS,
    unauthenticatedPerAddress: raw.unauthenticatedPerAddress ?? DEFAULT_UNAUTHENTICATED_PER_ADDRESS,
    rate: raw.rate ? convertRate(raw.rate) : null,
    requestBodyBytes: convertSize(
      raw.requestBody,
      DEFAULT_REQUEST_BODY_BYTES,
      'requestBody',
      issues,
    ),
    decodedResponseBytes: convertSize(
      raw.decodedResponse,
      DEFAULT_DECODED_RESPONSE_BYTES,
      'decodedResponse',
      issues,
    ),
    unauthenticatedAudit: convertUnauthenticatedAudit(raw.unauthenticatedAudit, issues),
  }

  // Defaults are consistent; only values the operator wrote can contradict each other.
  const path = ['server', 'limits'] as const
  if (limits.unauthenticatedConnections > limits.connections) {
    issues.add([...path, 'unauthenticatedConnections'], 'must be at most server.limits.connections')
  }
  if (limits.unauthenticatedPerAddress > limits.unauthenticatedConnections) {
    issues.add(
      [...path, 'unauthenticatedPerAddress'],
      'must be at most server.limits.unauthenticatedConnections',
    )
  }
  return limits
}

/** A byte limit; zero is refused, since it would refuse every body rather than mean "no limit". */
function convertSize(
  raw: RawSize | undefined,
  fallback: number,
  key: string,
  issues: IssueList,
): number {
  if (raw === undefined) return fallback
  const path = ['server', 'limits', key]
  if (!isSize(raw)) {
    issues.add(path, 'must be a size such as 512k, 32m or 1g')
    return fallback
  }

  const bytes = parseSize(raw)
  if (bytes === 0) issues.add(path, 'must be greater than 0')
  return bytes
}

/**
 * `limits.unauthenticatedAudit`; null turns the bound off, as it does `limits.rate`. The schema
 * keeps `events` at 1 or more: 0 would read as "audit none of them", which no limit may mean.
 */
function convertUnauthenticatedAudit(
  raw: RawUnauthenticatedAudit | null | undefined,
  issues: IssueList,
): UnauthenticatedAuditConfig | null {
  if (raw === null) return null
  const fallback = DEFAULT_UNAUTHENTICATED_AUDIT
  return {
    events: raw?.events ?? fallback.events,
    intervalMs: convertInterval(raw?.interval, fallback.intervalMs, issues),
  }
}

/** The summary interval: a timer's delay, so neither zero (a busy loop) nor past Node's range. */
function convertInterval(
  raw: RawDuration | undefined,
  fallback: number,
  issues: IssueList,
): number {
  if (raw === undefined) return fallback
  const path = ['server', 'limits', 'unauthenticatedAudit', 'interval']
  if (!isDuration(raw)) {
    issues.add(path, 'must be a duration such as 500ms, 10s, 5m, 24h or 7d')
    return fallback
  }

  const ms = parseDuration(raw)
  if (ms === 0) issues.add(path, 'must be greater than 0')
  if (ms > MAX_TIMER_MS) issues.add(path, 'must be at most 24d')
  return ms
}

/**
 * A request rate (server-wide or an agent's own). Without `burst` the bucket holds one
 * second's worth of requests, and always at least one.
 */
export function convertRate(raw: RawRateLimit): RateLimitConfig {
  const burst = raw.burst ?? Math.max(1, Math.ceil(raw.requestsPerSecond))
  return { requestsPerSecond: raw.requestsPerSecond, burst }
}
