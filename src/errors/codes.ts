/**
 * Every error Tollgate can return, in one place. The code is the error's identity: it is sent to
 * the agent in the `tollgate-error` header and the JSON body, written to the audit trail and
 * printed by the CLI. Codes are stable; messages may be reworded.
 */
export const ERRORS = {
  // 400: the request itself cannot be decided on.
  TOLLGATE_MALFORMED_REQUEST: { status: 400, message: 'the request is malformed' },
  TOLLGATE_AMBIGUOUS_TARGET: { status: 400, message: 'the request target is ambiguous' },
  TOLLGATE_BAD_PATH: { status: 400, message: 'the request path cannot be normalised safely' },
  TOLLGATE_BAD_HOST: { status: 400, message: 'the request host is not a valid host name' },
  TOLLGATE_UNSUPPORTED_SCHEME: { status: 400, message: 'only http and https are relayed' },
  TOLLGATE_UNKNOWN_ROUTE: { status: 404, message: 'no reverse route has that name' },
  TOLLGATE_REQUEST_TIMEOUT: { status: 408, message: 'the request did not arrive in time' },
  TOLLGATE_HEADERS_TOO_LARGE: { status: 431, message: 'the request head is too large' },

  // 407: who is asking is not known.
  TOLLGATE_AUTH_REQUIRED: { status: 407, message: 'proxy credentials are required' },
  TOLLGATE_AUTH_INVALID: { status: 407, message: 'the token is unknown, expired or revoked' },
  TOLLGATE_AUTH_AGENT_MISMATCH: { status: 407, message: 'the token belongs to another agent' },

  // 403: policy said no.
  TOLLGATE_POLICY_DENIED: { status: 403, message: 'denied by policy rule' },
  TOLLGATE_POLICY_NO_MATCH: { status: 403, message: 'no rule matched; denied by default' },
  TOLLGATE_UPGRADE_DENIED: { status: 403, message: 'no rule allows a protocol upgrade here' },
  TOLLGATE_PLACEHOLDER_MISUSE: {
    status: 403,
    message: 'a credential placeholder was sent to a host it is not bound to',
  },
  TOLLGATE_TOKEN_EXFILTRATION: {
    status: 403,
    message: 'a Tollgate agent token may not be sent upstream',
  },
  TOLLGATE_CREDENTIAL_PLAINTEXT: {
    status: 403,
    message: 'the rule injects a credential but the request is not over TLS',
  },

  // 429: the agent holds too much open already.
  TOLLGATE_CONNECTION_LIMIT: {
    status: 429,
    message: 'the agent has reached its limit of open connections or tunnels',
  },
  TOLLGATE_RATE_LIMITED: {
    status: 429,
    message: 'the agent is sending requests faster than its rate limit allows',
  },

  // 413: the agent sent a larger body than the relay forwards (server.limits.requestBody).
  TOLLGATE_BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body is larger than the relay accepts',
  },

  // 415: a request body the relay must look into is in a content coding it cannot decode.
  TOLLGATE_BODY_ENCODING: {
    status: 415,
    message: 'the request body is encoded in a way the relay cannot inspect',
  },

  // 421: the tunnel and the request inside it disagree about the host.
  TOLLGATE_MISDIRECTED: { status: 421, message: 'the request host does not match the tunnel' },
  // 421 on the control listener: a `Host` it does not answer to, as a DNS-rebound page sends.
  TOLLGATE_CONTROL_HOST_REFUSED: {
    status: 421,
    message: 'the control listener does not answer to this Host; see server.control.hosts',
  },

  // 5xx: Tollgate or the upstream failed; the agent did nothing wrong.
  TOLLGATE_AUDIT_UNAVAILABLE: { status: 503, message: 'the audit trail cannot be written' },
  TOLLGATE_SECRET_UNAVAILABLE: {
    status: 503,
    message: 'the credential for this rule is unavailable',
  },
  TOLLGATE_OVERLOADED: {
    status: 503,
    message: 'the relay holds as many connections as it accepts; try again shortly',
  },
  TOLLGATE_INTERNAL: { status: 500, message: 'internal relay error' },
  TOLLGATE_UPSTREAM_CONNECT: { status: 502, message: 'the upstream could not be reached' },
  TOLLGATE_UPSTREAM_TLS: { status: 502, message: 'the upstream TLS certificate was not trusted' },
  TOLLGATE_UPSTREAM_RESET: { status: 502, message: 'the upstream closed the connection' },
  TOLLGATE_UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream did not answer in time' },
  TOLLGATE_UPSTREAM_ENCODING: {
    status: 502,
    message: 'the upstream response is encoded in a way the relay cannot scrub',
  },
  TOLLGATE_RESPONSE_TOO_LARGE: {
    status: 502,
    message: 'the upstream response decodes to more than the relay accepts',
  },

  // Not sent on the wire: configuration and operator errors.
  TOLLGATE_CONFIG_INVALID: { status: 500, message: 'the configuration is invalid' },
  TOLLGATE_CONFIG_NOT_FOUND: { status: 500, message: 'the configuration file was not found' },
  TOLLGATE_STORE_UNAVAILABLE: { status: 503, message: 'the state store cannot be used' },
  TOLLGATE_NOT_FOUND: { status: 404, message: 'no such object' },
  TOLLGATE_INVALID_ARGUMENT: { status: 400, message: 'invalid argument' },
  TOLLGATE_CA_UNAVAILABLE: {
    status: 500,
    message: 'the interception certificate authority cannot be loaded',
  },
  TOLLGATE_CA_KEY_INSECURE: {
    status: 500,
    message: 'the interception CA key file is readable by other users',
  },
  TOLLGATE_DESTINATION_FORBIDDEN: {
    status: 403,
    message: 'the destination address is not one the allowing rule lets the relay connect to',
  },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

/** The header that carries the error code on every response the relay itself writes. */
export const ERROR_HEADER = 'tollgate-error'
