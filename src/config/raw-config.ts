/**
 * The document as users write it, once it has passed the JSON Schema: optional keys are still
 * optional, durations are still strings, hosts are still as typed. `convert-config.ts` turns it
 * into the defaulted `TollgateConfig`. Keep in step with `schema/tollgate.schema.json`.
 */

export type RawDuration = string | number

/** A size in bytes: `32m`, `512k`, `1g` or a bare integer of bytes. */
export type RawSize = string | number

export interface RawListener {
  listen?: string
}

export interface RawControlListener extends RawListener {
  hosts?: string[]
}

export interface RawServer {
  stateDir?: string
  proxy?: RawListener
  reverse?: RawListener | null
  control?: RawControlListener
  timeouts?: {
    connect?: RawDuration
    headers?: RawDuration
    body?: RawDuration
    idle?: RawDuration
    requestBodyIdle?: RawDuration
    request?: RawDuration
  }
  shutdownGrace?: RawDuration
  limits?: RawLimits
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  dns?: { servers?: string[] }
  audit?: { durability?: AuditDurability }
}

export type AuditDurability = 'disk' | 'process'

export interface RawRateLimit {
  requestsPerSecond: number
  burst?: number
}

export interface RawLimits {
  connectionsPerAgent?: number
  tunnelsPerAgent?: number
  connections?: number
  unauthenticatedConnections?: number
  unauthenticatedPerAddress?: number
  rate?: RawRateLimit | null
  requestBody?: RawSize
  decodedResponse?: RawSize
  unauthenticatedAudit?: RawUnauthenticatedAudit | null
}

export interface RawUnauthenticatedAudit {
  events?: number
  interval?: RawDuration
}

export interface RawPerson {
  email: string
  name?: string
  teams?: string[]
}

export interface RawAgent {
  name: string
  owner: string
  team: string
  policies?: string[]
  description?: string
  rate?: RawRateLimit
}

export interface RawRule {
  name: string
  effect?: 'allow' | 'deny'
  schemes?: Array<'http' | 'https'>
  hosts: string[]
  ports?: number[]
  methods?: string[]
  paths?: string[]
  credential?: string
  websocket?: boolean
  allowPlaintextCredential?: boolean
  addresses?: string[]
  tunnel?: 'opaque'
}

export interface RawPolicy {
  name: string
  mode?: 'enforce' | 'report'
  description?: string
  rules: RawRule[]
}

export interface RawCredential {
  name: string
  secret: string
  hosts: string[]
  header?: { name: string; format: string }
  basic?: { username: string }
  query?: { param: string }
  placeholder?: { value: string }
}

export interface RawRoute {
  name: string
  upstream: string
}

export interface RawUpstream {
  host: string
  caFile?: string
}

export interface RawConfig {
  version: 1
  server?: RawServer
  people?: RawPerson[]
  agents?: RawAgent[]
  policies?: RawPolicy[]
  credentials?: RawCredential[]
  routes?: RawRoute[]
  upstreams?: RawUpstream[]
}
