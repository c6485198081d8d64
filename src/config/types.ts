/**
 * The shape of `tollgate.yaml` after it has been parsed, validated and given its defaults.
 * The JSON Schema in `schema/tollgate.schema.json` describes the same document as users write
 * it; the loader turns that into these types (durations into milliseconds, defaults filled in).
 */

export type Scheme = 'http' | 'https'
export type RuleEffect = 'allow' | 'deny'
export type PolicyMode = 'enforce' | 'report'

export interface ListenConfig {
  host: string
  port: number
}

/** The control listener: where it listens, and which `Host` names it answers besides. */
export interface ControlListenConfig extends ListenConfig {
  /**
   * Exact host names (lower case, no trailing dot) the listener answers, besides IP literals,
   * `localhost` and the name it listens on: a Prometheus that scrapes it by a DNS name.
   */
  hosts: string[]
}

export interface TimeoutsConfig {
  /** Time to open a TCP (and TLS) connection to the upstream. */
  connectMs: number
  /** Time from sending the request until the upstream's response headers arrive. */
  headersMs: number
  /** Longest silence allowed while a body streams, either way. */
  bodyMs: number
  /** How long an idle agent connection or tunnel stays open. */
  idleMs: number
  /** Longest silence allowed while an agent sends a request body (slow senders are cut). */
  requestBodyIdleMs: number
  /** Longest time an agent may take to send one whole request, head and body. */
  requestMs: number
}

/**
 * Caps on what the relay holds open and on how fast each agent may ask, so a flood from one
 * agent (or from someone with no token at all) cannot starve the rest.
 */
export interface LimitsConfig {
  /** Client connections (keep-alive sockets) per agent. */
  connectionsPerAgent: number
  /** CONNECT tunnels per agent. */
  tunnelsPerAgent: number
  /** Client connections the process holds open at once, on every listener. */
  connections: number
  /** Connections that have not authenticated yet, on all listeners together. */
  unauthenticatedConnections: number
  /** Connections that have not authenticated yet, per source address (IPv6: per /64). */
  unauthenticatedPerAddress: number
  /** Each agent's request rate, unless the agent sets its own; null: not limited. */
  rate: RateLimitConfig | null
  /** Largest request body the relay forwards, in bytes (declared or streamed). */
  requestBodyBytes: number
  /** Largest response body the relay decodes (to scrub it) before cutting it, in bytes. */
  decodedResponseBytes: number
  /**
   * How many refusals that name no agent are audited one by one, per source and code, before
   * the rest are counted into one summary event; null: every one is audited alone.
   */
  unauthenticatedAudit: UnauthenticatedAuditConfig | null
}

/**
 * The bound on audit events and decision lines for refusals that name no agent: per address
 * group and code, the first `events` in each `intervalMs` are written one by one.
 */
export interface UnauthenticatedAuditConfig {
  events: number
  intervalMs: number
}

/** A token bucket: `burst` requests at once, refilled at `requestsPerSecond`. */
export interface RateLimitConfig {
  requestsPerSecond: number
  burst: number
}

/**
 * How far "written before it is forwarded" goes. `disk`: every audit commit is fsynced, so an
 * acknowledged event survives a power loss. `process`: commits reach the operating system (the
 * SQLite WAL) but are not fsynced; they survive the relay crashing or being killed, not the
 * machine going down, and a request no longer waits for the disk.
 */
export interface AuditConfig {
  durability: 'disk' | 'process'
}

export interface ServerConfig {
  /** Absolute path of the state directory (database, CA, master key). */
  stateDir: string
  proxy: ListenConfig
  reverse: ListenConfig | null
  control: ControlListenConfig
  timeouts: TimeoutsConfig
  /** How long a graceful shutdown waits for in-flight requests. */
  shutdownGraceMs: number
  limits: LimitsConfig
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  audit: AuditConfig
  /** Absent: upstream names are resolved by the system resolver. */
  dns?: DnsConfig
}

/** How the relay resolves upstream names before checking the addresses. */
export interface DnsConfig {
  /** DNS servers asked directly (`ip` or `ip:port`), instead of the system resolver. */
  servers: string[]
}

export interface PersonConfig {
  email: string
  name: string | null
  teams: string[]
}

export interface AgentConfig {
  name: string
  /** The email of the person who answers for this agent. */
  owner: string
  team: string
  policies: string[]
  description: string | null
  /** This agent's request rate, instead of `server.limits.rate`. */
  rate?: RateLimitConfig
}

export interface RuleConfig {
  name: string
  effect: RuleEffect
  schemes: Scheme[]
  /** Exact host names, `*.suffix` patterns or, rarely, `*`. Lower case, no trailing dot. */
  hosts: string[]
  /** Empty means the default port of each scheme. */
  ports: number[]
  /** Upper case; empty means any method. */
  methods: string[]
  /** Path globs: `*` stays within one segment, `**` crosses segments. */
  paths: string[]
  /** Name of the credential injected when this rule allows a request. */
  credential: string | null
  /** Whether a WebSocket upgrade may pass on requests this rule allows. */
  websocket: boolean
  /** Whether the credential may travel over plain HTTP (default: TLS only). */
  allowPlaintextCredential: boolean
  /**
   * Non-public address ranges (CIDR) the rule's hosts may resolve to. Absent: public addresses
   * only, plus the rule's own IP-literal hosts when requested by that literal.
   */
  addresses?: string[]
  /**
   * `opaque`: a CONNECT to one of the rule's hosts and ports is spliced to the destination byte
   * for byte, without TLS interception (SSH to a Git host). Absent: an ordinary HTTP rule.
   * The loader refuses it with wildcard hosts, without ports, or with a credential, paths,
   * methods other than CONNECT, schemes or WebSocket.
   */
  tunnel?: 'opaque'
}

export interface PolicyConfig {
  name: string
  mode: PolicyMode
  description: string | null
  rules: RuleConfig[]
}

export type CredentialInjection =
  | { kind: 'header'; header: string; format: string }
  | { kind: 'basic'; username: string }
  | { kind: 'query'; param: string }
  | { kind: 'placeholder'; placeholder: string }

export interface CredentialConfig {
  name: string
  /** Name of the secret in the encrypted store. */
  secret: string
  /** Hosts the credential may be sent to (exact or `*.suffix`). */
  hosts: string[]
  inject: CredentialInjection
}

export interface RouteConfig {
  /** First path segment on the reverse listener: `/<name>/...`. */
  name: string
  /** Base URL the rest of the path is appended to, e.g. `https://api.openai.com/v1`. */
  upstream: string
}

export interface UpstreamConfig {
  /** Host name (lower case) this entry applies to. */
  host: string
  /** PEM file with extra CA certificates trusted for this upstream, besides the system roots. */
  caFile: string | null
  /** The PEM contents, read at load time so a reload sees a changed file. */
  caPem: string | null
}

export interface TollgateConfig {
  version: 1
  server: ServerConfig
  people: PersonConfig[]
  agents: AgentConfig[]
  policies: PolicyConfig[]
  credentials: CredentialConfig[]
  routes: RouteConfig[]
  upstreams: UpstreamConfig[]
}

/** A loaded configuration with where it came from and a hash that names this version. */
export interface LoadedConfig {
  config: TollgateConfig
  /** Absolute path of the file it was read from. */
  path: string
  /** `sha256:` + hex of the file bytes; recorded on every audit event as the policy version. */
  hash: string
}
