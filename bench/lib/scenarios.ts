import type { ChildProcess } from 'node:child_process'

import type { BenchContext, RunningTarget, Scenario } from './context.js'
import { findFreePort } from './free-port.js'
import { reverseProxyConfig, SEEN_BENCH_HEADER, SEEN_KEY_HEADER } from './nginx-config.js'
import { startNginx, startNodeFloorProxy, startSquid } from './servers.js'
import { proxyAuthorization, startTollgate } from './tollgate.js'

/**
 * Every path compared, in run order. The `-1conn` pair measures latency added at one
 * connection, where queueing does not hide it.
 */
export const SCENARIOS: readonly Scenario[] = [
  { name: 'direct', connections: null, baseline: 'direct', start: startDirect },
  { name: 'nginx-reverse', connections: null, baseline: 'direct', start: startNginxReverse },
  { name: 'squid', connections: null, baseline: 'direct', start: startSquidProxy },
  // Node's HTTP server and an undici pool with no governance: the platform's own cost.
  { name: 'node-floor', connections: null, baseline: 'direct', start: startNodeFloor },
  { name: 'tollgate', connections: null, baseline: 'direct', start: startTollgateProxy },
  { name: 'direct-1conn', connections: 1, baseline: 'direct-1conn', start: startDirect },
  { name: 'squid-1conn', connections: 1, baseline: 'direct-1conn', start: startSquidProxy },
  { name: 'node-floor-1conn', connections: 1, baseline: 'direct-1conn', start: startNodeFloor },
  { name: 'tollgate-1conn', connections: 1, baseline: 'direct-1conn', start: startTollgateProxy },
  // `server.audit.durability: process`: the same governed path, audit commits not fsynced.
  {
    name: 'tollgate-process',
    connections: null,
    baseline: 'direct',
    start: (context) => startTollgateProxy(context, 'process'),
  },
  {
    name: 'tollgate-process-1conn',
    connections: 1,
    baseline: 'direct-1conn',
    start: (context) => startTollgateProxy(context, 'process'),
  },
]

/** Selects scenarios by name, keeping run order; throws on an unknown name. */
export function selectScenarios(only: string[] | null): Scenario[] {
  if (only === null) return [...SCENARIOS]

  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name))
  if (unknown.length > 0) {
    const known = SCENARIOS.map((s) => s.name).join(', ')
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${known}`)
  }
  return SCENARIOS.filter((s) => only.includes(s.name))
}

function upstreamUrl(context: BenchContext): string {
  return `http://127.0.0.1:${context.upstreamPort}/`
}

/** Absolute-form GET to the upstream, as an agent behind a forward proxy sends it. */
function forwardShape(context: BenchContext, extra: Record<string, string> = {}) {
  return {
    absoluteTarget: upstreamUrl(context),
    headers: { Host: `127.0.0.1:${context.upstreamPort}`, ...extra },
  }
}

function startDirect(context: BenchContext): Promise<RunningTarget> {
  return Promise.resolve({
    url: upstreamUrl(context),
    port: context.upstreamPort,
    shape: {},
    proxyPid: null,
    marker: null,
    stop: () => Promise.resolve(),
  })
}

/** A peer proxy the bench started itself, on `port`, adding the bench header. */
function peerTarget(
  context: BenchContext,
  port: number,
  child: ChildProcess,
  shape: RunningTarget['shape'],
): RunningTarget {
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    shape,
    proxyPid: child.pid ?? null,
    marker: SEEN_BENCH_HEADER,
    stop: () => context.supervisor.stop(child),
  }
}

async function startNginxReverse(context: BenchContext): Promise<RunningTarget> {
  const port = await findFreePort()
  const config = reverseProxyConfig(context.dir, port, context.upstreamPort)
  const child = await startNginx(context, 'reverse', config, port, context.pinning.proxyCpu)
  return peerTarget(context, port, child, {})
}

async function startSquidProxy(context: BenchContext): Promise<RunningTarget> {
  const port = await findFreePort()
  return peerTarget(context, port, await startSquid(context, port), forwardShape(context))
}

async function startNodeFloor(context: BenchContext): Promise<RunningTarget> {
  const port = await findFreePort()
  return peerTarget(context, port, await startNodeFloorProxy(context, port), forwardShape(context))
}

async function startTollgateProxy(
  context: BenchContext,
  durability: 'disk' | 'process' = 'disk',
): Promise<RunningTarget> {
  const tollgate = await startTollgate(context, `tollgate-${Date.now()}`, durability)
  const auth = { 'Proxy-Authorization': proxyAuthorization(tollgate.token) }

  return {
    url: `http://127.0.0.1:${tollgate.proxyPort}/`,
    port: tollgate.proxyPort,
    shape: forwardShape(context, auth),
    proxyPid: tollgate.child.pid ?? null,
    marker: SEEN_KEY_HEADER,
    stop: () => context.supervisor.stop(tollgate.child),
  }
}
