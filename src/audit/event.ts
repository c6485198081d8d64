import type { DecisionKind } from '../policy/request-target.js'

/** Every kind of event in the audit trail. Stable: exported and documented in docs/audit.md. */
export type AuditEventType =
  | 'request.decided'
  | 'request.completed'
  | 'request.rejected'
  | 'auth.failed'
  | 'refusals.suppressed'
  | 'token.issued'
  | 'token.revoked'
  | 'secret.set'
  | 'secret.deleted'
  | 'config.loaded'
  | 'config.rejected'
  | 'relay.started'
  | 'relay.stopped'
  | 'sandbox.started'
  | 'sandbox.stopped'
  | 'tunnel.tls_failed'

export type AuditDecision = DecisionKind | 'unauthenticated' | 'malformed' | 'limited' | 'error'

/**
 * One audit event as the rest of Tollgate hands it to the audit log. Every field is optional
 * except `type`; absent fields are written as null so exported objects always have the same
 * keys. Field names are the stable export names (snake_case) documented in docs/audit.md.
 */
export interface AuditEventInput {
  type: AuditEventType
  request_id?: string | null
  agent?: string | null
  owner?: string | null
  team?: string | null
  token_id?: string | null
  sandbox_id?: string | null
  client?: string | null
  method?: string | null
  scheme?: string | null
  host?: string | null
  port?: number | null
  /** Path with query values redacted (`?key=REDACTED`). Never a raw query string. */
  path?: string | null
  decision?: AuditDecision | null
  code?: string | null
  rule?: string | null
  policy_version?: string | null
  credentials?: string[] | null
  status?: number | null
  bytes_in?: number | null
  bytes_out?: number | null
  duration_ms?: number | null
  upstream_error?: string | null
  /** Free-form, non-secret context (e.g. the secret name for secret.set, the reload error). */
  detail?: Record<string, unknown> | null
}

/** An event as stored and exported: the input plus its place in the hash chain. */
export interface AuditEvent extends Required<Omit<AuditEventInput, 'detail'>> {
  seq: number
  /** RFC 3339 time with milliseconds, UTC. */
  time: string
  detail: Record<string, unknown> | null
  prev_hash: string
  hash: string
}
