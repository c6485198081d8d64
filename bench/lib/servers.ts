import type { ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import type { BenchContext } from './context.js'
import { pinned } from './cpu-pinning.js'
import { upstreamConfig } from './nginx-config.js'
import { squidConfig } from './squid-config.js'
import { waitForPort } from './readiness.js'

/**
 * Starts an nginx with the given config text under the supervisor and waits until it listens.
 * `-e` points nginx's start-up error log into the temp dir too, so nothing touches /var/log.
 */
export async function startNginx(
  context: BenchContext,
  name: string,
  config: string,
  port: number,
  cpu: number | null,
): Promise<ChildProcess> {
  const configFile = join(context.dir, `${name}.conf`)
  const logFile = join(context.dir, `${name}.out`)
  writeFileSync(configFile, config)

  const args = ['-p', context.dir, '-c', configFile, '-e', join(context.dir, `${name}-error.log`)]
  const { command, args: fullArgs } = pinned(cpu, 'nginx', args)

  const child = context.supervisor.start({ name, command, args: fullArgs, logFile })
  await waitForPort(child, port, { name, logFile })
  return child
}

/**
 * Starts the shared upstream on `context.upstreamPort`, left to the scheduler (not pinned):
 * pinning it to either core would starve the load generator or the proxy.
 */
export async function startUpstream(context: BenchContext): Promise<number> {
  const config = upstreamConfig(context.dir, context.upstreamPort)
  const child = await startNginx(context, 'upstream', config, context.upstreamPort, null)

  if (child.pid === undefined) throw new Error('the upstream nginx has no PID')
  return child.pid
}

/**
 * Starts squid in the foreground (`-N`: no daemon, no SMP kid process) and waits until it
 * listens. squid started as root drops to its own user before writing its log and pid file,
 * so it gets a world-writable directory of its own.
 */
export async function startSquid(context: BenchContext, port: number): Promise<ChildProcess> {
  const dir = join(context.dir, 'squid')
  mkdirSync(dir, { recursive: true })
  chmodSync(dir, 0o777)

  const configFile = join(dir, 'squid.conf')
  const logFile = join(context.dir, 'squid.out')
  writeFileSync(configFile, squidConfig(dir, port))

  const { command, args } = pinned(context.pinning.proxyCpu, 'squid', ['-N', '-f', configFile])
  const child = context.supervisor.start({ name: 'squid', command, args, logFile })

  await waitForPort(child, port, { name: 'squid', logFile: join(dir, 'squid-cache.log') })
  return child
}

/** Starts `node-floor-proxy.js` (compiled beside this file's folder) pinned like the others. */
export async function startNodeFloorProxy(
  context: BenchContext,
  port: number,
): Promise<ChildProcess> {
  const script = join(context.repoRoot, 'dist', 'bench', 'node-floor-proxy.js')
  const logFile = join(context.dir, 'node-floor.out')
  const args = [script, String(port), String(context.upstreamPort)]
  const { command, args: fullArgs } = pinned(context.pinning.proxyCpu, process.execPath, args)

  const child = context.supervisor.start({ name: 'node-floor', command, args: fullArgs, logFile })
  await waitForPort(child, port, { name: 'node-floor', logFile })
  return child
}
