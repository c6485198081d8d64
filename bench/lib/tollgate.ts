import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import type { BenchContext } from './context.js'
import { pinned } from './cpu-pinning.js'
import { findFreePorts } from './free-port.js'
import { waitForHttpOk } from './readiness.js'
import { BENCH_AGENT, BENCH_CREDENTIAL, tollgateConfig } from './tollgate-config.js'

/** A running bench Tollgate and the token its agent uses. */
export interface RunningTollgate {
  child: ChildProcess
  proxyPort: number
  token: string
}

/**
 * Prepares and starts one Tollgate: config, secret, token, `serve`, then waits for /healthz.
 * Each call gets its own state dir, so scenarios never share an audit database.
 */
export async function startTollgate(
  context: BenchContext,
  name: string,
  durability: 'disk' | 'process' = 'disk',
): Promise<RunningTollgate> {
  assertCliBuilt(context.repoRoot)

  const dir = join(context.dir, name)
  mkdirSync(dir, { recursive: true })
  const [proxyPort, controlPort] = await findFreePorts(2)
  if (proxyPort === undefined || controlPort === undefined) throw new Error('no free ports')

  const configFile = join(dir, 'tollgate.yaml')
  const ports = { stateDir: join(dir, 'state'), proxyPort, controlPort }
  writeFileSync(
    configFile,
    tollgateConfig({ ...ports, upstreamPort: context.upstreamPort, durability }),
  )

  runCli(context, ['secret', 'set', BENCH_CREDENTIAL, '--config', configFile], 'value')
  const token = lastLine(
    runCli(context, ['token', 'issue', '--agent', BENCH_AGENT, '--config', configFile]),
  )

  const child = serve(context, name, configFile)
  const logFile = join(context.dir, `${name}.out`)
  await waitForHttpOk(child, `http://127.0.0.1:${controlPort}/healthz`, { name, logFile })
  return { child, proxyPort, token }
}

/** `Proxy-Authorization` value for the bench agent. */
export function proxyAuthorization(token: string): string {
  return `Basic ${Buffer.from(`${BENCH_AGENT}:${token}`).toString('base64')}`
}

function assertCliBuilt(repoRoot: string): void {
  const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js')

  if (!existsSync(main)) {
    throw new Error(
      `the tollgate scenarios need the CLI, but ${main} is missing: build it with ` +
        '`npm run build`, or run only the peers with --only direct,nginx-reverse,squid',
    )
  }
}

function runCli(context: BenchContext, args: string[], input?: string): string {
  const bin = join(context.repoRoot, 'bin', 'tollgate.js')

  try {
    return execFileSync(process.execPath, [bin, ...args], {
      cwd: context.repoRoot,
      input: input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    })
  } catch (error) {
    // The command line is safe to show; stdout is not (it may hold the token).
    throw new Error(`tollgate ${args.slice(0, 2).join(' ')} failed`, { cause: stderrOf(error) })
  }
}

function serve(context: BenchContext, name: string, configFile: string): ChildProcess {
  const bin = join(context.repoRoot, 'bin', 'tollgate.js')
  // e.g. TOLLGATE_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to see where time goes.
  const nodeFlags = (process.env.TOLLGATE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const args = [...nodeFlags, bin, 'serve', '--config', configFile]
  const { command, args: fullArgs } = pinned(context.pinning.proxyCpu, process.execPath, args)

  const logFile = join(context.dir, `${name}.out`)
  return context.supervisor.start({ name, command, args: fullArgs, cwd: context.repoRoot, logFile })
}

function lastLine(output: string): string {
  const line = output.trim().split('\n').at(-1)?.trim()

  if (!line) throw new Error('tollgate token issue printed no token')
  return line
}

function stderrOf(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr
  return typeof stderr === 'string' ? stderr.trim().slice(-2000) : String(error)
}
