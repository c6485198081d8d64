// Measures PolicyEngine.decide() on generated configurations of 10, 1,000 and 10,000 rules spread
// over 200 agents (each with its own policy and three shared ones, one of them in report mode),
// on a mix of allowed, denied and unmatched requests. Rules: 70% exact hosts, 28% suffix patterns,
// 2% bare `*` (those are scanned linearly, so their share drives the cost). Each size runs ≤ ~3 s.
// Run: node dist/bench/policy-decide.js
import type { AgentConfig, PolicyConfig, RuleConfig } from '../src/config/types.js'
import { PolicyEngine } from '../src/policy/engine.js'
import type { RequestTarget } from '../src/policy/request-target.js'

const AGENTS = 200
const SHARED = 20
const SIZES = [10, 1_000, 10_000]
const WARMUP_CALLS = 200_000
const MAX_CALLS = 5_000_000
const MAX_NANOS = 3_000_000_000n
const BATCH = 10_000

interface Workload {
  policies: PolicyConfig[]
  agents: AgentConfig[]
  requests: Array<{ agent: string; target: RequestTarget }>
}

/** A small deterministic generator, so every run measures the same workload. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

function makeRule(policy: string, index: number, next: () => number): RuleConfig {
  const roll = next()
  const host =
    roll < 0.7
      ? `api${index}.${policy}.example.com`
      : roll < 0.98
        ? `*.svc${index}.example.net`
        : '*'
  return {
    name: `r${index}`,
    effect: next() < 0.1 ? 'deny' : 'allow',
    schemes: ['https'],
    hosts: [host],
    ports: [],
    methods: next() < 0.5 ? ['GET', 'HEAD'] : [],
    paths: host === '*' ? [`/internal${index}/**`] : [`/v1/${index}/**`, '/repos/*/issues'],
    credential: next() < 0.3 ? `cred-${index}` : null,
    websocket: false,
    allowPlaintextCredential: false,
  }
}

function makePolicy(name: string, rules: number, next: () => number, report = false): PolicyConfig {
  const made = Array.from({ length: rules }, (_, i) => makeRule(name, i, next))
  return { name, mode: report ? 'report' : 'enforce', description: null, rules: made }
}

function makeWorkload(totalRules: number): Workload {
  const next = random(totalRules)

  if (totalRules < AGENTS) {
    const only = makePolicy('shared-0', totalRules, next)
    const agents = Array.from({ length: AGENTS }, (_, i) => agentOf(i, ['shared-0']))
    return { policies: [only], agents, requests: makeRequests([only], agents, next) }
  }

  const sharedRules = Math.round((totalRules * 0.2) / SHARED)
  const ownRules = Math.round((totalRules * 0.8) / AGENTS)
  const shared = Array.from({ length: SHARED }, (_, i) =>
    makePolicy(`shared-${i}`, sharedRules, next, i === SHARED - 1),
  )
  const own = Array.from({ length: AGENTS }, (_, i) => makePolicy(`own-${i}`, ownRules, next))
  const agents = Array.from({ length: AGENTS }, (_, i) =>
    agentOf(i, [
      `own-${i}`,
      `shared-${i % SHARED}`,
      `shared-${(i + 7) % SHARED}`,
      `shared-${SHARED - 1}`,
    ]),
  )
  return {
    policies: [...shared, ...own],
    agents,
    requests: makeRequests([...shared, ...own], agents, next),
  }
}

function agentOf(i: number, policies: string[]): AgentConfig {
  return { name: `agent-${i}`, owner: 'o@example.com', team: 't', policies, description: null }
}

/** Requests to hosts the agent's rules name (so rules really match) and to unknown hosts. */
function makeRequests(
  policies: PolicyConfig[],
  agents: AgentConfig[],
  next: () => number,
): Workload['requests'] {
  const byName = new Map(policies.map((policy) => [policy.name, policy]))

  return Array.from({ length: 4096 }, () => {
    const agent = agents[Math.floor(next() * agents.length)]!
    const policy = byName.get(agent.policies[Math.floor(next() * agent.policies.length)]!)!
    const rule = policy.rules[Math.floor(next() * policy.rules.length)]
    const host = hostFor(rule, next)
    const path = next() < 0.7 ? `/v1/${rule?.name.slice(1) ?? 0}/items/42` : '/repos/x/issues'
    const method = next() < 0.8 ? 'GET' : 'POST'
    return { agent: agent.name, target: { scheme: 'https', host, port: 443, method, path } }
  })
}

function hostFor(rule: RuleConfig | undefined, next: () => number): string {
  const pattern = rule?.hosts[0]
  if (pattern === undefined || next() < 0.2) return 'unknown.example.org'
  if (pattern === '*') return 'anything.example.org'
  return pattern.startsWith('*.') ? `a.b${pattern.slice(1)}` : pattern
}

interface Measurement {
  calls: number
  /** Wall time of the measured loop. */
  nanos: bigint
  /** CPU time of the process over the loop; unlike wall time, not inflated by other load. */
  cpuNanos: number
}

function measure(engine: PolicyEngine, workload: Workload): Measurement {
  const { requests } = workload
  const mask = requests.length - 1
  let allowed = 0

  for (let i = 0; i < WARMUP_CALLS; i++) {
    const { agent, target } = requests[i & mask]!
    if (engine.decide(agent, target).kind === 'allow') allowed++
  }

  const cpuStart = process.cpuUsage()
  const started = process.hrtime.bigint()
  let calls = 0
  let nanos = 0n
  while (calls < MAX_CALLS && nanos < MAX_NANOS) {
    for (let i = 0; i < BATCH; i++, calls++) {
      const { agent, target } = requests[calls & mask]!
      if (engine.decide(agent, target).kind === 'allow') allowed++
    }
    nanos = process.hrtime.bigint() - started
  }

  // Printed so the decisions cannot be optimised away, and as a sanity check of the workload.
  if (allowed === 0) console.warn('no request was allowed: the workload is not exercising rules')
  const cpu = process.cpuUsage(cpuStart)
  return { calls, nanos, cpuNanos: (cpu.user + cpu.system) * 1000 }
}

function run(): void {
  console.log('rules   agents  policies  compile ms  ns/decision  decisions/s  cpu ns/decision')

  for (const size of SIZES) {
    const workload = makeWorkload(size)
    const compileStart = process.hrtime.bigint()
    const engine = PolicyEngine.compile(workload.policies, workload.agents)
    const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6

    const { calls, nanos, cpuNanos } = measure(engine, workload)
    const perCall = Number(nanos) / calls
    console.log(
      [
        String(engine.ruleCount()).padStart(5),
        String(workload.agents.length).padStart(8),
        String(workload.policies.length).padStart(9),
        compileMs.toFixed(1).padStart(11),
        perCall.toFixed(0).padStart(12),
        Math.round(1e9 / perCall)
          .toLocaleString('en-US')
          .padStart(12),
        (cpuNanos / calls).toFixed(0).padStart(16),
      ].join(' '),
    )
  }
}

run()
