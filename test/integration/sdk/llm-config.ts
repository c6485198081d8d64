/** Ports of the fake providers the SDK tests route to. */
export interface LlmPorts {
  openai: number
  anthropic: number
  /** Upstreams served over TLS, reached through the forward proxy (CONNECT). */
  tls?: {
    /** The OpenAI stand-in. */
    openai: number
    /** An echo server under `/api/**`, sent the OpenAI key. */
    echo: number
  }
}

/** The real provider keys, stored as secrets: the agent never holds them. */
export const KEYS = {
  'openai-secret': 'sk-real-OPENAI-key-0123456789',
  'anthropic-secret': 'sk-ant-real-ANTHROPIC-key-9876543210',
} as const

export const AGENT = 'assistant'
export const OWNER = 'alice@example.com'

/**
 * One agent allowed to call the chat and messages endpoints of two fake providers and nothing
 * else, with the provider key injected by the relay: `Authorization: Bearer` for OpenAI,
 * `x-api-key` for Anthropic. The routes point at the providers' base URLs as the SDKs expect
 * them (OpenAI's includes `/v1`, Anthropic's does not).
 */
export function llmTestConfig(ports: LlmPorts): string {
  return `
people:
  - email: ${OWNER}
    teams: [research]
agents:
  - name: ${AGENT}
    owner: ${OWNER}
    team: research
    policies: [llm]
policies:
  - name: llm
    rules:
      - name: openai-chat
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${ports.openai}]
        methods: [POST]
        paths: ["/v1/chat/completions"]
        credential: openai-key
        allowPlaintextCredential: true
      - name: anthropic-messages
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${ports.anthropic}]
        methods: [POST]
        paths: ["/v1/messages"]
        credential: anthropic-key
        allowPlaintextCredential: true
${ports.tls ? tlsRules(ports.tls) : ''}
credentials:
  - name: openai-key
    secret: openai-secret
    hosts: ["127.0.0.1"]
    header: { name: Authorization, format: "Bearer {secret}" }
  - name: anthropic-key
    secret: anthropic-secret
    hosts: ["127.0.0.1"]
    header: { name: x-api-key, format: "{secret}" }
routes:
  - name: openai
    upstream: http://127.0.0.1:${ports.openai}/v1
  - name: anthropic
    upstream: http://127.0.0.1:${ports.anthropic}
${ports.tls ? UPSTREAM_CA : ''}
`
}

function tlsRules(tls: NonNullable<LlmPorts['tls']>): string {
  return `      - name: openai-chat-tls
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${tls.openai}]
        methods: [POST]
        paths: ["/v1/chat/completions"]
        credential: openai-key
      - name: echo-api
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${tls.echo}]
        methods: [GET, POST]
        paths: ["/api/**"]
        credential: openai-key`
}

/** The TLS upstreams' certificates come from a test CA the relay must be told to trust. */
const UPSTREAM_CA = `upstreams:
  - host: "127.0.0.1"
    caFile: ./upstream-ca.pem`
