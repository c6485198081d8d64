import { homedir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { SandboxClient, type SandboxInfo } from '../../control-plane/sandbox-client.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { BOX_FRESH_WORKDIR } from '../../sandbox/box-paths.js'
import {
  closeFd,
  openProgramFd,
  SECCOMP_CHILD_FD,
  WALL_TIME_STATUS,
} from '../../sandbox/box-process.js'
import {
  decideMechanism,
  MECHANISM_CHOICES,
  type MechanismChoice,
} from '../../sandbox/cgroup/limits-mechanism.js'
import { runLimitedBox } from '../../sandbox/cgroup/run-limited-box.js'
import { bwrapArgs, type BoxSpec } from '../../sandbox/bwrap-argv.js'
import { findExecutable } from '../../sandbox/find-executable.js'
import { readHostRoot } from '../../sandbox/host-root.js'
import {
  boxCommand,
  EMPTY_IMAGE_CONFIG,
  imageEnv,
  type ImageConfig,
} from '../../sandbox/image/image-config.js'
import { resolveImageUser } from '../../sandbox/image/image-user.js'
import { addMountPoints, prepareImage } from '../../sandbox/image/prepare-image.js'
import { outputLogPath } from '../../sandbox/output-log.js'
import { checkWorkdir, placeholderEnv } from '../../sandbox/run-options.js'
import type { BoxEnd } from '../../sandbox/sandbox-manager.js'
import {
  NO_LIMITS,
  parseCount,
  parseCpus,
  parseSeconds,
  parseSize,
  wrapperRlimits,
  type SandboxLimits,
} from '../../sandbox/sandbox-limits.js'
import { hostSeccompProgram } from '../../sandbox/seccomp/box-filter.js'
import { logOf, openBoxOutput, type BoxOutput } from '../../sandbox/terminal/box-output.js'
import { requireOverlayPolicies } from '../../policy/overlay-names.js'
import { loadConfig, type GlobalOptions } from '../context.js'

interface RunOptions {
  agent: string
  image?: string
  workdir?: string
  freshWorkdir?: boolean
  memory?: number
  pids?: number
  cpuSeconds?: number
  cpus?: number
  wallTime?: number
  limitsMechanism: MechanismChoice
  envPlaceholder: string[]
  /** False with `--no-seccomp`. */
  seccomp: boolean
  /** Overlay policies narrowing the agent's (`--policy`, repeatable). */
  policy: string[]
}

const LIMITS_HELP = `
Limits (all off unless given) are enforced by cgroup v2 where this process may create a child
cgroup with the memory, pids and cpu controllers (a delegated cgroup), else by rlimits; which
one, and why not cgroup v2, is recorded on the sandbox (limits.mechanism, fallbackReason).
  --memory      cgroup2: memory.max of the whole box, swap off (memory.swap.max 0)
                rlimit:  RLIMIT_AS (address space) of each process, ulimit -v in the box
  --pids        cgroup2: pids.max, the box's processes and threads
                rlimit:  RLIMIT_NPROC, ulimit -u; counts every process of your user ID, and
                does not bind root
  --cpus        cgroup2 only: cpu.max, CPU time of the whole box per 100 ms; an error where
                cgroup v2 is not usable
  --cpu-seconds RLIMIT_CPU of each process, ulimit -t (both mechanisms)
  --wall-time   the whole box is killed (exit ${WALL_TIME_STATUS}) when it is up (both)
  --limits-mechanism auto (default) | cgroup2 (an error, naming why, where not usable) | rlimit

The box: new user, PID, network, IPC, UTS, mount and cgroup namespaces; no network but
loopback, where 127.0.0.1:3128 leads to this sandbox's own relay listener; the host system
read-only, with what not every user may read in /etc left empty; a fresh $HOME, /tmp and
/run; the working directory read-write; a seccomp filter that refuses ptrace, mounts, new
namespaces, the keyring, kernel modules, io_uring and socket families other than unix, inet,
inet6 and netlink (--no-seccomp turns it off and weakens the box).

Output: the box's stdout and stderr are also copied to <stateDir>/sandboxes/<id>/output.log
(first 10 MiB) for \`tollgate sandbox logs\`. When stdin and stdout are both a terminal, the
box runs on a pseudo-terminal of script(1) (util-linux), so it still has a terminal; without
script(1) such a run is not captured.
Signals: SIGINT (Ctrl-C), SIGTERM, SIGHUP, SIGQUIT and SIGWINCH go to the agent itself; its
exit status is this command's.
With --image and no command, the image's Entrypoint and Cmd run; a command after -- follows
the Entrypoint, as in Docker.
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
    .option('--memory <size>', 'memory limit, e.g. 512m (see below)', parseSize)
    .option('--pids <n>', 'process-count limit', parseCount)
    .option('--cpu-seconds <n>', 'CPU-time limit per process, e.g. 60 or 5m', parseSeconds)
    .option('--cpus <n>', 'CPU share of the whole box, e.g. 0.5 (cgroup v2 only)', parseCpus)
    .option('--wall-time <duration>', 'lifetime of the box, e.g. 30m', parseSeconds)
    .addOption(
      new Option('--limits-mechanism <how>', 'how limits are enforced (see below)')
        .choices(MECHANISM_CHOICES)
        .default('auto'),
    )
    .option(
      '--env-placeholder <NAME=CREDENTIAL>',
      "set NAME to a placeholder credential's placeholder (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--no-seccomp', 'start the box without its seccomp filter (weakens the box)')
    .option(
      '--policy <name>',
      "a policy from the config that narrows the agent's for this box (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .argument('[command...]', "the command to run, after -- (default: an image's own)")
    .addHelpText('after', LIMITS_HELP)
    .action(async (command: string[], options: RunOptions, cmd: Command) => {
      process.exitCode = await run(command, options, cmd.optsWithGlobals<GlobalOptions>())
    })
}

async function run(given: string[], options: RunOptions, globals: GlobalOptions) {
  const { config } = loadConfig(globals)
  requireOverlayPolicies(options.policy, config.policies)
  const stateDir = config.server.stateDir
  const bwrap = findExecutable('bwrap')
  if (!bwrap) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'bubblewrap (bwrap) is not installed')
  }
  // Before anything is registered: an unknown architecture stops here, not in a half-made box.
  const program = options.seccomp ? hostSeccompProgram() : null
  const env = { ...passThroughEnv(), ...placeholderEnv(options.envPlaceholder, config.credentials) }
  const workdir = options.freshWorkdir
    ? null
    : checkWorkdir(options.workdir ?? process.cwd(), homedir(), stateDir)
  const image = boxImage(options.image, stateDir, workdir)
  const command = image ? boxCommand(image.config, given) : hostCommand(given)
  const parts = { env, workdir, image, explicitWorkdir: options.workdir !== undefined }

  const client = new SandboxClient(stateDir)
  const isolation = { seccomp: program !== null }
  // Decided before registering, so the record and the audit event say how limits are enforced.
  const decided = decideMechanism(options.limitsMechanism, limitsOf(options))
  const limits = decided.limits
  const sandbox = await client.start(options.agent, command, limits, isolation, options.policy)
  let seccompFd: number | null = null
  let output: BoxOutput | null = null
  let ended: BoxEnd | null = null
  try {
    seccompFd = program === null ? null : openProgramFd(dirname(sandbox.socket), program)
    output = openBoxOutput(outputLogPath(stateDir, sandbox.id))
    const spec = boxSpec(sandbox, command, parts, seccompFd)
    const io = { seccompFd, output, wallSeconds: sandbox.limits.wallSeconds }
    const placement = { sandboxId: sandbox.id, limits, parentDir: decided.parentDir }
    ended = await runLimitedBox(bwrap, bwrapArgs(spec), io, placement)
    return ended.exitStatus
  } finally {
    closeFd(seccompFd)
    if (output) logOf(output)?.close()
    await client.stop(sandbox.id, ended).catch(() => undefined)
  }
}

function hostCommand(given: string[]): string[] {
  if (given.length === 0) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'no command: give one after --')
  }
  return given
}

interface BoxParts {
  env: Record<string, string>
  workdir: string | null
  explicitWorkdir: boolean
  image: BoxImage | null
}

function boxSpec(
  sandbox: SandboxInfo,
  command: string[],
  parts: BoxParts,
  seccompFd: number | null,
): BoxSpec {
  const config = parts.image?.config ?? EMPTY_IMAGE_CONFIG
  return {
    sandboxId: sandbox.id,
    command,
    relaySocket: sandbox.socket,
    caFile: sandbox.ca_file,
    root: parts.image ? { kind: 'image', dir: parts.image.dir } : hostRoot(),
    home: homedir(),
    workdir: parts.workdir,
    env: parts.env,
    imageEnv: imageEnv(config),
    // The image's WorkingDir is where its program expects to start, unless --workdir says
    // where the work is.
    cwd: parts.explicitWorkdir ? null : config.workingDir,
    user: parts.image?.user ?? null,
    seccompFd: seccompFd === null ? null : SECCOMP_CHILD_FD,
    limits: wrapperRlimits(sandbox.limits),
  }
}

function hostRoot(): BoxSpec['root'] {
  return { kind: 'host', host: readHostRoot() }
}

/** An image prepared for a box: its root directory, its config, its `User` as numbers. */
interface BoxImage {
  dir: string
  config: ImageConfig
  user: { uid: number; gid: number } | null
}

/**
 * The image's root directory and config, or null for the host system. An image is unpacked
 * (once, cached in the state directory) before the sandbox is registered, and gets mount points
 * for $HOME, the working directory and its WorkingDir, which bwrap cannot create in a
 * read-only root. Its User is resolved here too, so an unknown name stops the run early.
 */
function boxImage(image: string | undefined, stateDir: string, workdir: string | null) {
  if (image === undefined) return null
  const prepared = prepareImage(resolve(image), stateDir)
  const { config } = prepared
  if (prepared.unpacked) {
    const points = [homedir(), workdir ?? BOX_FRESH_WORKDIR, config.workingDir]
    addMountPoints(
      prepared.dir,
      points.filter((point) => point !== null),
    )
  }
  const user = config.user === null ? null : resolveImageUser(prepared.dir, config.user)
  return { dir: prepared.dir, config, user }
}

function limitsOf(options: RunOptions): SandboxLimits {
  return {
    ...NO_LIMITS,
    memoryBytes: options.memory ?? null,
    pids: options.pids ?? null,
    cpuSeconds: options.cpuSeconds ?? null,
    cpus: options.cpus ?? null,
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
