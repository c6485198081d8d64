import { convertRoutes, convertUpstreams } from './convert-endpoints.js'
import { convertServer, type ConvertContext } from './convert-server.js'
import { convertRate } from './convert-limits.js'
import { hostPatternProblem, normaliseHost } from './host-pattern.js'
import { addressRangeProblem } from './address-range.js'
import { convertTunnel } from './convert-tunnel.js'
import type {
  RawAgent,
  RawConfig,
  RawCredential,
  RawPerson,
  RawPolicy,
  RawRule,
} from './raw-config.js'
import type {
  AgentConfig,
  CredentialConfig,
  CredentialInjection,
  PersonConfig,
  PolicyConfig,
  RuleConfig,
  TollgateConfig,
} from './types.js'
import type { ConfigPath } from './yaml-source.js'

/**
 * Turns a schema-valid document into the typed, defaulted configuration. Lists keep their
 * order and length, so `agents[2]` in the result is `agents[2]` in the file and later checks can
 * report against the file's key paths. Values that cannot be converted are reported to
 * `ctx.issues`; the result is then only good for further checking, never for serving.
 */
export function convertConfig(raw: RawConfig, ctx: ConvertContext): TollgateConfig {
  return {
    version: 1,
    server: convertServer(raw.server, ctx),
    people: (raw.people ?? []).map(convertPerson),
    agents: (raw.agents ?? []).map(convertAgent),
    policies: (raw.policies ?? []).map((p, i) => convertPolicy(p, ['policies', i], ctx)),
    credentials: (raw.credentials ?? []).map((c, i) =>
      convertCredential(c, ['credentials', i], ctx),
    ),
    routes: convertRoutes(raw.routes ?? [], ctx),
    upstreams: convertUpstreams(raw.upstreams ?? [], ctx),
  }
}

// Emails are compared in lower case: SSO providers do not agree on the case they report.
function convertPerson(raw: RawPerson): PersonConfig {
  return { email: raw.email.toLowerCase(), name: raw.name ?? null, teams: raw.teams ?? [] }
}

function convertAgent(raw: RawAgent): AgentConfig {
  return {
    name: raw.name,
    owner: raw.owner.toLowerCase(),
    team: raw.team,
    policies: raw.policies ?? [],
    description: raw.description ?? null,
    ...(raw.rate ? { rate: convertRate(raw.rate) } : {}),
  }
}

function convertPolicy(raw: RawPolicy, path: ConfigPath, ctx: ConvertContext): PolicyConfig {
  return {
    name: raw.name,
    mode: raw.mode ?? 'enforce',
    description: raw.description ?? null,
    rules: raw.rules.map((rule, i) => convertRule(rule, [...path, 'rules', i], ctx)),
  }
}

function convertRule(raw: RawRule, path: ConfigPath, ctx: ConvertContext): RuleConfig {
  return {
    name: raw.name,
    effect: raw.effect ?? 'allow',
    schemes: raw.schemes ?? ['https'],
    hosts: convertHosts(raw.hosts, [...path, 'hosts'], ctx),
    ports: raw.ports ?? [],
    methods: [...new Set((raw.methods ?? []).map((m) => m.toUpperCase()))],
    paths: raw.paths ?? ['/**'],
    credential: raw.credential ?? null,
    websocket: raw.websocket ?? false,
    allowPlaintextCredential: raw.allowPlaintextCredential ?? false,
    ...convertAddresses(raw, [...path, 'addresses'], ctx),
    ...convertTunnel(raw, path, ctx),
  }
}

/** The rule's `addresses` ranges, each checked; absent stays absent. */
function convertAddresses(
  raw: RawRule,
  path: ConfigPath,
  ctx: ConvertContext,
): { addresses?: string[] } {
  if (raw.addresses === undefined) return {}
  if (raw.effect === 'deny') ctx.issues.add(path, 'only allow rules can allow addresses')

  raw.addresses.forEach((text, i) => {
    const problem = addressRangeProblem(text)
    if (problem) ctx.issues.add([...path, i], `"${text}" ${problem}`)
  })
  return { addresses: raw.addresses.map((text) => text.toLowerCase()) }
}

function convertCredential(
  raw: RawCredential,
  path: ConfigPath,
  ctx: ConvertContext,
): CredentialConfig {
  return {
    name: raw.name,
    secret: raw.secret,
    hosts: convertHosts(raw.hosts, [...path, 'hosts'], ctx),
    inject: convertInjection(raw),
  }
}

// The schema guarantees exactly one of the four keys is set.
function convertInjection(raw: RawCredential): CredentialInjection {
  if (raw.header) {
    // Lower case: header names are case-insensitive and the relay drops agent-sent copies by
    // comparing names, which must not be fooled by `AUTHORIZATION`.
    return { kind: 'header', header: raw.header.name.toLowerCase(), format: raw.header.format }
  }
  if (raw.basic) return { kind: 'basic', username: raw.basic.username }
  if (raw.query) return { kind: 'query', param: raw.query.param }
  return { kind: 'placeholder', placeholder: raw.placeholder?.value ?? '' }
}

/** Normalised host patterns; each one that is not acceptable is reported at its index. */
export function convertHosts(
  raw: readonly string[],
  path: ConfigPath,
  ctx: ConvertContext,
): string[] {
  return raw.map((host, i) => {
    const normalised = normaliseHost(host)
    const problem = hostPatternProblem(normalised)
    if (problem) ctx.issues.add([...path, i], `"${host}" ${problem}`)
    return normalised
  })
}
