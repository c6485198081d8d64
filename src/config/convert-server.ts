import { isIP, isIPv4, isIPv6 } from 'node:net'
import { resolve } from 'node:path'

import {
  DEFAULT_AUDIT_DURABILITY,
  DEFAULT_CONTROL_LISTEN,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_LISTEN,
  DEFAULT_REVERSE_LISTEN,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_STATE_DIR,
  DEFAULT_TIMEOUTS,
  MAX_TIMER_MS,
} from './defaults.js'
import { convertLimits } from './convert-limits.js'
import { exactHostProblem, normaliseHost } from './host-pattern.js'
import { isDuration, parseDuration } from './duration.js'
import type { IssueList } from './issue-list.js'
import { formatListenAddress, parseListenAddress } from './listen-address.js'
import type { RawControlListener, RawDuration, RawListener, RawServer } from './raw-config.js'
import type {
  ControlListenConfig,
  DnsConfig,
  ListenConfig,
  ServerConfig,
  TimeoutsConfig,
} from './types.js'
import type { ConfigPath } from './yaml-source.js'

/** What converting a section needs: where relative paths start, and where problems go. */
export interface ConvertContext {
  /** Absolute directory of the configuration file. */
  baseDir: string
  issues: IssueList
}

/** The `server` section with its defaults, durations in milliseconds and paths made absolute. */
export function convertServer(raw: RawServer = {}, ctx: ConvertContext): ServerConfig {
  const server: ServerConfig = {
    stateDir: resolve(ctx.baseDir, raw.stateDir ?? DEFAULT_STATE_DIR),
    proxy: convertListener(raw.proxy, DEFAULT_PROXY_LISTEN, 'proxy', ctx),
    // Absent or null turns the reverse listener off: routes are opt-in.
    reverse: raw.reverse
      ? convertListener(raw.reverse, DEFAULT_REVERSE_LISTEN, 'reverse', ctx)
      : null,
    control: convertControl(raw.control, ctx),
    timeouts: convertTimeouts(raw.timeouts ?? {}, ctx),
    shutdownGraceMs: convertShutdownGrace(raw.shutdownGrace, ctx),
    limits: convertLimits(raw.limits, ctx.issues),
    logLevel: raw.logLevel ?? DEFAULT_LOG_LEVEL,
    audit: { durability: raw.audit?.durability ?? DEFAULT_AUDIT_DURABILITY },
    ...convertDns(raw.dns, ctx),
  }

  checkDistinctListeners(server, ctx)
  return server
}

function convertDns(raw: RawServer['dns'], ctx: ConvertContext): { dns?: DnsConfig } {
  const servers = raw?.servers ?? []
  if (servers.length === 0) return {}

  servers.forEach((server, i) => {
    if (isDnsServer(server)) return
    ctx.issues.add(['server', 'dns', 'servers', i], `"${server}" must be an IP address or ip:port`)
  })
  return { dns: { servers } }
}

/** `ip`, `ipv4:port` or `[ipv6]:port`: what dns.Resolver#setServers accepts. */
function isDnsServer(text: string): boolean {
  if (isIP(text) !== 0) return true
  const match = /^(?:\[([^\]]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text)
  if (match === null || Number(match[3]) > 65535) return false
  return match[1] !== undefined ? isIPv6(match[1]) : isIPv4(match[2] ?? '')
}

function convertListener(
  raw: RawListener | undefined,
  fallback: Readonly<ListenConfig>,
  name: string,
  ctx: ConvertContext,
): ListenConfig {
  if (raw?.listen === undefined) return { ...fallback }

  const parsed = parseListenAddress(raw.listen)
  if (typeof parsed !== 'string') return parsed

  ctx.issues.add(['server', name, 'listen'], parsed)
  return { ...fallback }
}

function convertControl(
  raw: RawControlListener | undefined,
  ctx: ConvertContext,
): ControlListenConfig {
  const listen = convertListener(raw, DEFAULT_CONTROL_LISTEN, 'control', ctx)
  return { ...listen, hosts: convertControlHosts(raw?.hosts ?? [], ctx) }
}

/** `server.control.hosts`: exact names, compared as the listener canonicalises `Host`. */
function convertControlHosts(raw: readonly string[], ctx: ConvertContext): string[] {
  const hosts: string[] = []
  raw.forEach((entry, i) => {
    const host = normaliseHost(entry)
    const problem = controlHostProblem(host)
    if (problem === null) hosts.push(host)
    else ctx.issues.add(['server', 'control', 'hosts', i], `"${entry}" ${problem}`)
  })
  return hosts
}

function controlHostProblem(host: string): string | null {
  // Every address is answered already; listing one suggests a restriction that is not there.
  if (isIP(host) !== 0)
    return 'is an IP address: the control listener answers every IP address; list host names only'
  return exactHostProblem(host)
}

function convertTimeouts(
  raw: NonNullable<RawServer['timeouts']>,
  ctx: ConvertContext,
): TimeoutsConfig {
  const timeout = (key: keyof typeof raw, fallback: number) =>
    convertDuration(raw[key], fallback, ['server', 'timeouts', key], ctx, { positive: true })

  return {
    connectMs: timeout('connect', DEFAULT_TIMEOUTS.connectMs),
    headersMs: timeout('headers', DEFAULT_TIMEOUTS.headersMs),
    bodyMs: timeout('body', DEFAULT_TIMEOUTS.bodyMs),
    idleMs: timeout('idle', DEFAULT_TIMEOUTS.idleMs),
    requestBodyIdleMs: timeout('requestBodyIdle', DEFAULT_TIMEOUTS.requestBodyIdleMs),
    requestMs: timeout('request', DEFAULT_TIMEOUTS.requestMs),
  }
}

function convertShutdownGrace(raw: RawDuration | undefined, ctx: ConvertContext): number {
  return convertDuration(raw, DEFAULT_SHUTDOWN_GRACE_MS, ['server', 'shutdownGrace'], ctx)
}

function convertDuration(
  raw: RawDuration | undefined,
  fallback: number,
  path: ConfigPath,
  ctx: ConvertContext,
  options: { positive?: boolean } = {},
): number {
  if (raw === undefined) return fallback
  if (!isDuration(raw)) {
    ctx.issues.add(path, 'must be a duration such as 500ms, 10s, 5m, 24h or 7d')
    return fallback
  }

  const ms = parseDuration(raw)
  // A zero timeout would fail every request at once rather than mean "no timeout".
  if (options.positive && ms === 0) ctx.issues.add(path, 'must be greater than 0')
  // Node timers overflow past 2^31 - 1 ms and then fire almost at once.
  if (ms > MAX_TIMER_MS) ctx.issues.add(path, 'must be at most 24d')
  return ms
}

function checkDistinctListeners(server: ServerConfig, ctx: ConvertContext): void {
  const seen = new Map<string, string>()
  const listeners = { proxy: server.proxy, reverse: server.reverse, control: server.control }

  for (const [name, listen] of Object.entries(listeners)) {
    // Port 0 asks the system for a fresh port each time, so it never collides.
    if (!listen || listen.port === 0) continue

    const address = formatListenAddress(listen)
    const other = seen.get(address)
    if (other)
      ctx.issues.add(['server', name, 'listen'], `${address} is already used by server.${other}`)
    seen.set(address, name)
  }
}
