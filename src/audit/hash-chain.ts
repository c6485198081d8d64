import { createHash } from 'node:crypto'

/**
 * The fields of a stored audit event, in the one order the canonical JSON uses. `seq` and `time`
 * come first and are hashed like every other field, so renumbering or re-dating an event breaks
 * its hash. The chain fields (`prev_hash`, `hash`) are not part of the hashed content.
 */
export const AUDIT_FIELDS = [
  'seq',
  'time',
  'type',
  'request_id',
  'agent',
  'owner',
  'team',
  'token_id',
  'sandbox_id',
  'client',
  'method',
  'scheme',
  'host',
  'port',
  'path',
  'decision',
  'code',
  'rule',
  'policy_version',
  'credentials',
  'status',
  'bytes_in',
  'bytes_out',
  'duration_ms',
  'upstream_error',
  'detail',
] as const

/** Every key of an exported event, in export order: the hashed fields, then the chain fields. */
export const AUDIT_EVENT_KEYS = [...AUDIT_FIELDS, 'prev_hash', 'hash'] as const

/** The `prev_hash` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64)

/** The `meta` key holding `<seq>:<hash>` of the last event, written with every append. */
export const HEAD_META_KEY = 'audit_head'

/** The last link of the chain: what the next event hashes onto. */
export interface ChainHead {
  seq: number
  hash: string
}

type InputField = Exclude<(typeof AUDIT_FIELDS)[number], 'seq' | 'time'>

// Everything after seq and time is known when the event is recorded, so its JSON is built then,
// off the commit path; only the two leading fields are filled in inside the transaction.
export const INPUT_FIELDS = AUDIT_FIELDS.slice(2) as readonly InputField[]

/**
 * The canonical JSON of an event minus `seq` and `time`: every field present (null when absent),
 * in `AUDIT_FIELDS` order, `detail` with its keys sorted at every depth. Ends with `}`.
 * Throws if `detail` holds something JSON cannot represent (a BigInt, a cycle).
 */
export function canonicalTail(event: Readonly<Partial<Record<InputField, unknown>>>): string {
  return JSON.stringify(orderedFields(event)).slice(1)
}

/**
 * The event as an object literal whose keys are `AUDIT_FIELDS` minus seq and time, in order.
 * Spelled out rather than built in a loop because this runs twice per request, and a literal
 * of fixed shape is several times cheaper to stringify. A unit test holds the two lists equal.
 */
export function orderedFields(e: Readonly<Partial<Record<InputField, unknown>>>) {
  return {
    type: e.type ?? null,
    request_id: e.request_id ?? null,
    agent: e.agent ?? null,
    owner: e.owner ?? null,
    team: e.team ?? null,
    token_id: e.token_id ?? null,
    sandbox_id: e.sandbox_id ?? null,
    client: e.client ?? null,
    method: e.method ?? null,
    scheme: e.scheme ?? null,
    host: e.host ?? null,
    port: e.port ?? null,
    path: e.path ?? null,
    decision: e.decision ?? null,
    code: e.code ?? null,
    rule: e.rule ?? null,
    policy_version: e.policy_version ?? null,
    credentials: e.credentials ?? null,
    status: e.status ?? null,
    bytes_in: e.bytes_in ?? null,
    bytes_out: e.bytes_out ?? null,
    duration_ms: e.duration_ms ?? null,
    upstream_error: e.upstream_error ?? null,
    detail: e.detail === undefined || e.detail === null ? null : sortKeysDeep(e.detail),
  }
}

/** Joins `seq` and `time` onto a tail from `canonicalTail` to give the full canonical JSON. */
export function canonicalJson(seq: number, time: string, tail: string): string {
  return `{"seq":${seq},"time":${JSON.stringify(time)},${tail}`
}

/** The canonical JSON of a whole (parsed) event, as `canonicalJson` would have written it. */
export function canonicalizeEvent(event: Readonly<Record<string, unknown>>): string {
  return canonicalJson(Number(event['seq']), String(event['time']), canonicalTail(event))
}

/** `sha256(prevHash + '\n' + json)` in lower-case hex: one link of the chain. */
export function hashEvent(prevHash: string, json: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(json).digest('hex')
}

/** Parses the `audit_head` meta value; null when it is absent or not `<seq>:<64 hex>`. */
export function parseHead(value: string | undefined): ChainHead | null {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(value ?? '')
  if (!match?.[1] || !match[2]) return null
  return { seq: Number(match[1]), hash: match[2] }
}

export function formatHead(head: ChainHead): string {
  return `${head.seq}:${head.hash}`
}

function sortedJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, inner: unknown) => sortKeys(inner))
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value

  // fromEntries defines own properties, so a `__proto__` key stays data, not a prototype.
  const record = value as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, record[key]]),
  )
}

function sortKeysDeep(value: unknown): unknown {
  return JSON.parse(sortedJson(value) ?? 'null') as unknown
}
