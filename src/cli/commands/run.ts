import { spawn } from 'node:child_process'
import { constants, homedir } from 'node:os'
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { SandboxClient, type SandboxInfo } from '../../control-plane/sandbox-client.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { BOX_FRESH_WORKDIR } from '../../sandbox/box-paths.js'
import { bwrapArgs, type BoxSpec } from '../../sandbox/bwrap-argv.js'
import { findExecutable } from '../../sandbox/find-executable.js'
import { readHostRoot } from '../../sandbox/host-root.js'
import { addMountPoints, prepareImage } from '../../sandbox/image/prepare-image.js'
import { checkWorkdir, placeholderEnv } from '../../sandbox/run-options.js'
import {
  parseCount,
  parseSeconds,
  parseSize,
  type SandboxLimits,
} from '../../sandbox/sandbox-limits.js'
import { loadConfig, type GlobalOptions } from '../context.js'

interface RunOptions {
  agent: string
  image?: string
  workdir?: string
  freshWorkdir?: boolean
  memory?: number
  pids?: number
  cpuSeconds?: number
  wallTime?: number
  envPlaceholder: string[]
}

/** Exit status when the wall time ran out, as timeout(1) reports it. */
const WALL_TIME_STATUS = 124

const LIMITS_HELP = `
Limits (all off unless given):
  --memory      RLIMIT_AS (address space) of each process, set with ulimit -v inside the box;
                not a cgroup memory limit
  --pids        RLIMIT_NPROC, set with ulimit -u; counts every process of your user ID, and
                does not bind root
  --cpu-seconds RLIMIT_CPU of each process, set with ulimit -t
  --wall-time   the whole box is killed (exit ${WALL_TIME_STATUS}) when it is up

The box: new user, PID, network, IPC, UTS, mount and cgroup namespaces; no network but
loopback, where 127.0.0.1:3128 leads to this sandbox's own relay listener; the host system
read-only; a fresh $HOME, /tmp and /run; the working directory read-write. No seccomp filter
and no cgroup limits yet: see docs/sandbox.md.
`

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command in a sandbox whose only way out is the relay (needs `serve`)')
    .requiredOption('-a, --agent <name>', 'the agent the sandbox acts as')
    .option(
      '--image <path>',
      'run on an image instead of the host system: a root filesystem directory, an OCI image ' +
        'layout directory or a `docker save` tarball',
    )
    .option('--workdir <dir>', 'the host directory shared read-write (default: the current one)')
    .addOption(new Option('--fresh-workdir', 'share no host directory').conflicts('workdir'))
    .option('--memory <size>', 'address-space limit per process, e.g. 512m', parseSize)
    .option('--pids <n>', 'process-count limit', parseCount)
    .option('--cpu-seconds <n>', 'CPU-time limit per process, e.g. 60 or 5m', parseSeconds)
    .option('--wall-time <duration>', 'lifetime of the box, e.g. 30m', parseSeconds)
    .option(
      '--env-placeholder <NAME=CREDENTIAL>',
      "set NAME to a placeholder credential's placeholder (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .argument('<command...>', 'the command to run, after --')
    .addHelpText('after', LIMITS_HELP)
    .action(async (command: string[], options: RunOptions, cmd: Command) => {
      process.exitCode = await run(command, options, cmd.optsWithGlobals<GlobalOptions>())
    })
}

async function run(command: string[], options: RunOptions, globals: GlobalOptions) {
  const { config } = loadConfig(globals)
  const stateDir = config.server.stateDir
  const bwrap = findExecutable('bwrap')
  if (!bwrap) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'bubblewrap (bwrap) is not installed')
  }
  const env = { ...passThroughEnv(), ...placeholderEnv(options.envPlaceholder, config.credentials) }
  const workdir = options.freshWorkdir
    ? null
    : checkWorkdir(options.workdir ?? process.cwd(), homedir(), stateDir)
  const root = boxRoot(options.image, stateDir, workdir)

  const client = new SandboxClient(stateDir)
  const sandbox = await client.start(options.agent, command, limitsOf(options))
  try {
    const spec = boxSpec(sandbox, command, { root, env, workdir })
    return await runBox(bwrap, bwrapArgs(spec), sandbox.limits.wallSeconds)
  } finally {
    await client.stop(sandbox.id).catch(() => undefined)
  }
}

function boxSpec(
  sandbox: SandboxInfo,
  command: string[],
  parts: { root: BoxSpec['root']; env: Record<string, string>; workdir: string | null },
): BoxSpec {
  return {
    sandboxId: sandbox.id,
    command,
    relaySocket: sandbox.socket,
    caFile: sandbox.ca_file,
    root: parts.root,
    home: homedir(),
    workdir: parts.workdir,
    env: parts.env,
    limits: sandbox.limits,
  }
}

/**
 * The host system, or the image's root directory. An image is unpacked (once, cached in the
 * state directory) before the sandbox is registered, and gets mount points for $HOME and the
 * working directory, which bwrap cannot create in a read-only root.
 */
function boxRoot(image: string | undefined, stateDir: string, workdir: string | null) {
  if (image === undefined) return { kind: 'host' as const, host: readHostRoot() }
  const prepared = prepareImage(resolve(image), stateDir)
  if (prepared.unpacked) addMountPoints(prepared.dir, [homedir(), workdir ?? BOX_FRESH_WORKDIR])
  return { kind: 'image' as const, dir: prepared.dir }
}

function limitsOf(options: RunOptions): SandboxLimits {
  return {
    memoryBytes: options.memory ?? null,
    pids: options.pids ?? null,
    cpuSeconds: options.cpuSeconds ?? null,
    wallSeconds: options.wallTime ?? null,
  }
}

/** Terminal settings only: nothing else of the caller's environment enters the box. */
function passThroughEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of ['TERM', 'LANG', 'LC_ALL', 'TZ']) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

/**
 * Runs bwrap to completion: its exit status is the agent's. SIGINT, SIGTERM and SIGHUP are
 * passed on to bwrap, whose death kills everything in the box (`--die-with-parent`).
 */
function runBox(bwrap: string, args: string[], wallSeconds: number | null): Promise<number> {
  const child = spawn(bwrap, args, { stdio: 'inherit' })
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of signals) process.on(signal, forward)

  let timedOut = false
  const timer =
    wallSeconds === null
      ? null
      : setTimeout(() => {
          timedOut = true
          process.stderr.write('tollgate: the sandbox reached its wall time\n')
          child.kill('SIGKILL')
        }, wallSeconds * 1000)

  return new Promise((done, fail) => {
    child.once('error', fail)
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer)
      for (const s of signals) process.off(s, forward)
      if (timedOut) done(WALL_TIME_STATUS)
      else done(code ?? 128 + signalNumber(signal))
    })
  })
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 1 : constants.signals[signal]
}
