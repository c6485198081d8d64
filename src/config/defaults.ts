import type {
  ListenConfig,
  ServerConfig,
  TimeoutsConfig,
  UnauthenticatedAuditConfig,
} from './types.js'

/**
 * Defaults for the `server` section of `tollgate.yaml`. Every listener binds to loopback by
 * default: exposing the relay beyond the machine is a decision the operator writes down.
 */

/** The state directory, relative to the directory holding the configuration file. */
export const DEFAULT_STATE_DIR = './.tollgate'

/** Forward proxy: the address agents put in `HTTP_PROXY` / `HTTPS_PROXY`. */
export const DEFAULT_PROXY_LISTEN: Readonly<ListenConfig> = { host: '127.0.0.1', port: 3128 }

/**
 * Reverse routes. Used when `server.reverse` is present without a `listen`; when the key is
 * absent or null the reverse listener is off.
 */
export const DEFAULT_REVERSE_LISTEN: Readonly<ListenConfig> = { host: '127.0.0.1', port: 3129 }

/** Health checks and metrics. */
export const DEFAULT_CONTROL_LISTEN: Readonly<ListenConfig> = { host: '127.0.0.1', port: 3130 }

export const DEFAULT_TIMEOUTS: Readonly<TimeoutsConfig> = {
  connectMs: 10_000,
  headersMs: 60_000,
  // Long enough for a streamed LLM answer that pauses while the model thinks.
  bodyMs: 300_000,
  idleMs: 120_000,
  // A client that pauses this long mid-body is stalled or hostile, not thinking.
  requestBodyIdleMs: 30_000,
  // Generous for uploads; a trickle that keeps just ahead of the idle timeout still ends.
  requestMs: 600_000,
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000

/** Generous for one agent, small next to what one relay process can hold open. */
export const DEFAULT_CONNECTIONS_PER_AGENT = 256
export const DEFAULT_TUNNELS_PER_AGENT = 128

/**
 * Every accepted socket costs a file descriptor (two while it is proxied). Node raises its
 * soft descriptor limit to the hard one at start, which is usually well above this.
 */
export const DEFAULT_CONNECTIONS = 4096

/**
 * A real client authenticates with its first request, so sockets without a token yet are few
 * and short-lived; a pile of them is a flood.
 */
export const DEFAULT_UNAUTHENTICATED_CONNECTIONS = 1024
export const DEFAULT_UNAUTHENTICATED_PER_ADDRESS = 128

/**
 * Far above what an API call or an LLM prompt sends; an agent that uploads more is either
 * moving data it should not, or a workload that sets its own limit.
 */
export const DEFAULT_REQUEST_BODY_BYTES = 32 * 1024 ** 2

/**
 * The relay decodes a compressed response only to scrub it; a few kilobytes of gzip can expand
 * to gigabytes, so the decoded size is capped well above any real API answer.
 */
export const DEFAULT_DECODED_RESPONSE_BYTES = 256 * 1024 ** 2

/**
 * Every refusal on record one by one (the audit promise) for anything short of a flood: a
 * client, scanner or test suite probing the relay stays far below 100 refusals a second of one
 * code, while a process reconnecting in a loop (thousands a second) is cut to that.
 */
export const DEFAULT_UNAUTHENTICATED_AUDIT: Readonly<UnauthenticatedAuditConfig> = {
  events: 1000,
  intervalMs: 10_000,
}

/** The audit promise in full (DESIGN.md: no audit, no egress) unless the operator trades it. */
export const DEFAULT_AUDIT_DURABILITY: ServerConfig['audit']['durability'] = 'disk'

export const DEFAULT_LOG_LEVEL: ServerConfig['logLevel'] = 'info'

/**
 * Node's timers overflow past 2^31 - 1 ms (about 24.8 days) and then fire after 1 ms, which
 * would turn a long timeout into an immediate one. Server durations are capped here.
 */
export const MAX_TIMER_MS = 2_147_483_647
