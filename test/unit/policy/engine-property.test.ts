import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { AgentConfig, PolicyConfig, RuleConfig, Scheme } from '../../../src/config/types.js'
import { PolicyEngine } from '../../../src/policy/engine.js'
import type { Decision, RequestTarget } from '../../../src/policy/request-target.js'
import { agent } from './fixtures.js'

// A deliberately naive reference: the semantics of docs/policy.md read literally, scanning
// every rule of every policy, with a backtracking glob matcher instead of RegExps.

function refGlob(glob: string, path: string): boolean {
  // A trailing `/**` also matches its parent: `/repos/**` matches `/repos`.
  if (glob.endsWith('/**') && refGlobFrom(glob.slice(0, -3), 0, path, 0)) return true
  return refGlobFrom(glob, 0, path, 0)
}

function refGlobFrom(glob: string, i: number, path: string, j: number): boolean {
  if (i === glob.length) return j === path.length
  if (glob.startsWith('**', i)) {
    for (let k = j; k <= path.length; k++) if (refGlobFrom(glob, i + 2, path, k)) return true
    return false
  }
  if (glob[i] === '*') {
    for (let k = j; k <= path.length; k++) {
      if (refGlobFrom(glob, i + 1, path, k)) return true
      if (path[k] === '/') return false
    }
    return false
  }
  return path[j] === glob[i] && refGlobFrom(glob, i + 1, path, j + 1)
}

function refHost(pattern: string, host: string): boolean {
  if (pattern === '*') return true
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1))
  return pattern === host
}

function refPort(rule: RuleConfig, scheme: Scheme, port: number): boolean {
  if (rule.ports.length > 0) return rule.ports.includes(port)
  return port === (scheme === 'https' ? 443 : 80)
}

function refMatches(rule: RuleConfig, t: RequestTarget): boolean {
  return (
    rule.hosts.some((h) => refHost(h, t.host)) &&
    rule.schemes.includes(t.scheme) &&
    refPort(rule, t.scheme, t.port) &&
    (rule.methods.length === 0 || rule.methods.includes(t.method)) &&
    rule.paths.some((g) => refGlob(g, t.path))
  )
}

type Hit = { policy: PolicyConfig; rule: RuleConfig } | null

function refEvaluate(policies: PolicyConfig[], t: RequestTarget): Hit {
  const hits = policies.flatMap((p) =>
    p.rules.filter((r) => refMatches(r, t)).map((r) => ({ policy: p, rule: r })),
  )
  return (
    hits.find((h) => h.rule.effect === 'deny') ??
    hits.find((h) => h.rule.effect === 'allow') ??
    null
  )
}

function refDecide(
  policies: PolicyConfig[],
  t: RequestTarget,
): Omit<Decision, 'rule'> & { rule: string | null } {
  const enforce = policies.filter((p) => p.mode === 'enforce')
  const monitorOnly = policies.length > 0 && enforce.length === 0
  const enforced = monitorOnly ? null : refEvaluate(enforce, t)
  const id = (h: Hit): string | null => (h === null ? null : `${h.policy.name}/${h.rule.name}`)

  if (!monitorOnly && enforced?.rule.effect !== 'allow') {
    const code = enforced === null ? 'TOLLGATE_POLICY_NO_MATCH' : 'TOLLGATE_POLICY_DENIED'
    return {
      kind: 'deny',
      code,
      rule: id(enforced),
      credential: null,
      websocket: false,
      allowPlaintextCredential: false,
    }
  }
  const full = refEvaluate(policies, t)
  if (full?.rule.effect !== 'allow') {
    // Forwarded under the enforced allow rule, if there is one; a monitor-only agent gets none.
    const code = full === null ? 'TOLLGATE_POLICY_NO_MATCH' : 'TOLLGATE_POLICY_DENIED'
    return { kind: 'would_deny', code, rule: id(full), ...flagsOf(enforced) }
  }
  const allow = enforced ?? full
  return { kind: 'allow', code: null, rule: id(allow), ...flagsOf(allow) }
}

function flagsOf(
  hit: Hit,
): Pick<Decision, 'credential' | 'websocket' | 'allowPlaintextCredential'> {
  return {
    credential: hit?.rule.credential ?? null,
    websocket: hit?.rule.websocket ?? false,
    allowPlaintextCredential: hit?.rule.allowPlaintextCredential ?? false,
  }
}

const HOST_PATTERNS = ['*', '*.s.com', '*.x.s.com', '*.com', 's.com', 'a.s.com', 'x.s.com', 'b.com']
const HOSTS = ['s.com', 'a.s.com', 'x.s.com', 'a.x.s.com', 'b.com', 'com', 'ss.com', 'a.b.x.s.com']
const GLOBS = ['/**', '/a', '/a/*', '/a/**', '/*/b', '/a/**/c', '/*', '/b/*.json', '/a/*/**']
const SEGMENTS = ['a', 'b', 'c', 'x.json', '']
const METHODS = ['GET', 'POST', 'DELETE']

const ruleArb = fc.record({
  effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'deny'),
  schemes: fc.subarray<Scheme>(['http', 'https'], { minLength: 1 }),
  hosts: fc.subarray(HOST_PATTERNS, { minLength: 1, maxLength: 3 }),
  ports: fc.subarray([443, 80, 8443], { maxLength: 2 }),
  methods: fc.subarray(METHODS, { maxLength: 2 }),
  paths: fc.subarray(GLOBS, { minLength: 1, maxLength: 2 }),
  credential: fc.constantFrom(null, 'c1', 'c2'),
  websocket: fc.boolean(),
  allowPlaintextCredential: fc.boolean(),
})

const configArb = fc
  .array(fc.record({ report: fc.boolean(), rules: fc.array(ruleArb, { maxLength: 6 }) }), {
    minLength: 1,
    maxLength: 4,
  })
  .chain((drafts) => {
    const policies: PolicyConfig[] = drafts.map((d, p) => ({
      name: `p${p}`,
      mode: d.report ? 'report' : 'enforce',
      description: null,
      rules: d.rules.map((r, i) => ({ name: `r${i}`, ...r })),
    }))
    const names = policies.map((p) => p.name)
    const agents = fc.array(fc.shuffledSubarray(names), { minLength: 1, maxLength: 3 })
    return fc.tuple(fc.constant(policies), agents)
  })

const targetArb = fc.record({
  scheme: fc.constantFrom<Scheme>('http', 'https'),
  host: fc.constantFrom(...HOSTS),
  port: fc.constantFrom(443, 80, 8443),
  method: fc.constantFrom(...METHODS),
  path: fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 4 }).map((s) => `/${s.join('/')}`),
})

function agentsOf(lists: string[][]): AgentConfig[] {
  return lists.map((policies, i) => agent(`a${i}`, policies))
}

void describe('PolicyEngine agrees with a linear-scan reference', () => {
  void test('decide', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(targetArb, { minLength: 1, maxLength: 10 }),
        ([policies, lists], targets) => {
          const engine = PolicyEngine.compile(policies, agentsOf(lists))
          lists.forEach((names, i) => {
            const own = names.map((n) => policies.find((p) => p.name === n)!)
            for (const t of targets) {
              const actual = engine.decide(`a${i}`, t)
              assert.deepEqual({ ...actual, rule: actual.rule?.id ?? null }, refDecide(own, t))
            }
          })
        },
      ),
      { numRuns: 400 },
    )
  })

  void test('mayConnect', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.constantFrom(...HOSTS),
        fc.constantFrom(443, 8443),
        ([policies, lists], host, port) => {
          const engine = PolicyEngine.compile(policies, agentsOf(lists))
          lists.forEach((names, i) => {
            const own = names.map((n) => policies.find((p) => p.name === n)!)
            assert.equal(engine.mayConnect(`a${i}`, host, port), refMayConnect(own, host, port))
          })
        },
      ),
      { numRuns: 300 },
    )
  })
})

function refMayConnect(policies: PolicyConfig[], host: string, port: number): boolean {
  const enforce = policies.filter((p) => p.mode === 'enforce')
  if (policies.length > 0 && enforce.length === 0) return true

  const rules = enforce.flatMap((p) => p.rules)
  const reaches = (r: RuleConfig): boolean =>
    r.hosts.some((h) => refHost(h, host)) &&
    r.schemes.includes('https') &&
    refPort(r, 'https', port)
  const closes = (r: RuleConfig): boolean =>
    r.effect === 'deny' && reaches(r) && r.methods.length === 0 && r.paths.includes('/**')
  return !rules.some(closes) && rules.some((r) => r.effect === 'allow' && reaches(r))
}
