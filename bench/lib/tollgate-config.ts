import { stringify } from 'yaml'

/** Ports and paths one bench Tollgate needs. */
export interface TollgateBenchPorts {
  stateDir: string
  proxyPort: number
  controlPort: number
  upstreamPort: number
  /** `server.audit.durability`; the default (`disk`) fsyncs every audit commit. */
  durability?: 'disk' | 'process'
}

/** The agent and credential names the bench uses, shared with the CLI calls. */
export const BENCH_AGENT = 'bench'
export const BENCH_CREDENTIAL = 'bench-key'
export const BENCH_OWNER = 'bench@example.com'

/**
 * The smallest `tollgate.yaml` that exercises the governed path: one person, one agent, one
 * rule that allows GET to the upstream and injects a header credential over plain HTTP.
 * Durable audit is Tollgate's default, so it is on without saying so. The format is the one
 * users write (examples/tollgate.example.yaml), not the loaded `TollgateConfig`.
 */
export function tollgateConfig(ports: TollgateBenchPorts): string {
  const document = {
    version: 1,
    server: {
      stateDir: ports.stateDir,
      proxy: { listen: `127.0.0.1:${ports.proxyPort}` },
      control: { listen: `127.0.0.1:${ports.controlPort}` },
      reverse: null,
      logLevel: 'warn',
      ...(ports.durability ? { audit: { durability: ports.durability } } : {}),
    },
    people: [{ email: BENCH_OWNER, name: 'Bench Owner', teams: ['bench'] }],
    agents: [{ name: BENCH_AGENT, owner: BENCH_OWNER, team: 'bench', policies: ['bench'] }],
    policies: [{ name: 'bench', rules: [benchRule(ports.upstreamPort)] }],
    credentials: [benchCredential()],
  }

  return stringify(document)
}

function benchRule(upstreamPort: number): Record<string, unknown> {
  return {
    name: 'bench-upstream',
    effect: 'allow',
    schemes: ['http'],
    hosts: ['127.0.0.1'],
    ports: [upstreamPort],
    methods: ['GET'],
    credential: BENCH_CREDENTIAL,
    // The upstream is plain HTTP on loopback; without this Tollgate refuses to send the secret.
    allowPlaintextCredential: true,
  }
}

function benchCredential(): Record<string, unknown> {
  return {
    name: BENCH_CREDENTIAL,
    secret: BENCH_CREDENTIAL,
    hosts: ['127.0.0.1'],
    header: { name: 'X-Api-Key', format: '{secret}' },
  }
}
