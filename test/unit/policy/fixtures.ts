import type {
  AgentConfig,
  CredentialConfig,
  PolicyConfig,
  PolicyMode,
  RuleConfig,
  TollgateConfig,
} from '../../../src/config/types.js'
import { PolicyEngine } from '../../../src/policy/engine.js'
import type { RequestTarget } from '../../../src/policy/request-target.js'
import { targetFromUrl } from '../../../src/policy/target-from-url.js'

/** A rule with the loader's defaults (https, default port, any method, any path) and overrides. */
export function rule(name: string, overrides: Partial<RuleConfig> = {}): RuleConfig {
  return {
    name,
    effect: 'allow',
    schemes: ['https'],
    hosts: ['api.example.com'],
    ports: [],
    methods: [],
    paths: ['/**'],
    credential: null,
    websocket: false,
    allowPlaintextCredential: false,
    ...overrides,
  }
}

export function policy(
  name: string,
  rules: RuleConfig[],
  mode: PolicyMode = 'enforce',
): PolicyConfig {
  return { name, mode, description: null, rules }
}

export function agent(name: string, policies: string[]): AgentConfig {
  return { name, owner: 'owner@example.com', team: 'platform', policies, description: null }
}

/** One agent, `bot`, holding the given policies in order. */
export function engineFor(...policies: PolicyConfig[]): PolicyEngine {
  return PolicyEngine.compile(policies, [
    agent(
      'bot',
      policies.map((p) => p.name),
    ),
  ])
}

/** `request('GET https://x/y')` → canonical target. */
export function request(line: string): RequestTarget {
  const [method = '', url = ''] = line.split(' ')
  return targetFromUrl(method, url)
}

/** A configuration holding just what policy code reads; server settings are placeholders. */
export function config(parts: {
  policies: PolicyConfig[]
  agents: AgentConfig[]
  credentials?: CredentialConfig[]
}): TollgateConfig {
  const listen = { host: '127.0.0.1', port: 0 }
  return {
    version: 1,
    server: {
      stateDir: '/nonexistent',
      proxy: listen,
      reverse: null,
      control: { ...listen, hosts: [] },
      timeouts: {
        connectMs: 1,
        headersMs: 1,
        bodyMs: 1,
        idleMs: 1,
        requestBodyIdleMs: 1,
        requestMs: 1,
      },
      shutdownGraceMs: 1,
      logLevel: 'silent',
      audit: { durability: 'disk' },
      limits: {
        connectionsPerAgent: 256,
        tunnelsPerAgent: 128,
        connections: 4096,
        unauthenticatedConnections: 1024,
        unauthenticatedPerAddress: 128,
        rate: null,
        requestBodyBytes: 32 * 1024 ** 2,
        decodedResponseBytes: 256 * 1024 ** 2,
        unauthenticatedAudit: { events: 1000, intervalMs: 10_000 },
      },
    },
    people: [],
    agents: parts.agents,
    policies: parts.policies,
    credentials: parts.credentials ?? [],
    routes: [],
    upstreams: [],
  }
}

export function credential(name: string, hosts: string[]): CredentialConfig {
  return {
    name,
    secret: name,
    hosts,
    inject: { kind: 'header', header: 'authorization', format: 'Bearer {secret}' },
  }
}
