import {
  BOX_CA_FILE,
  BOX_FRESH_WORKDIR,
  BOX_PROXY_PORT,
  BOX_PROXY_URL,
  BOX_RELAY_SOCKET,
  BOX_RUN_DIR,
  BOX_SYSTEM_BUNDLE,
  BRIDGE_FAILED_STATUS,
} from './box-paths.js'
import type { HiddenEntry, HostRoot } from './host-root.js'
import type { BoxUser } from './image/image-user.js'
import type { SandboxLimits } from './sandbox-limits.js'

/** Everything that decides one box's bubblewrap command line. */
export interface BoxSpec {
  sandboxId: string
  command: string[]
  /** Host path of the sandbox's own relay socket. */
  relaySocket: string
  /** Host path of the relay CA certificate (PEM) copied for this sandbox. */
  caFile: string
  /** The host system (read-only), or a root filesystem directory (`--image`). */
  root: { kind: 'host'; host: HostRoot } | { kind: 'image'; dir: string }
  /** $HOME inside the box: always a fresh tmpfs, never the host's. */
  home: string
  /** A host directory shared read-write at the same path, or null for a fresh one. */
  workdir: string | null
  /** Extra environment (placeholders, TERM, LANG); nothing else of the host's is passed. */
  env: Record<string, string>
  /** The image config's `Env`: the base that `env` and Tollgate's own variables override. */
  imageEnv: Record<string, string>
  /** Where the command starts, when not in the working directory (an image's WorkingDir). */
  cwd: string | null
  /** The image's `User` as numbers, or null to stay the caller's user mapped into the box. */
  user: BoxUser | null
  /** The fd in bwrap's process holding the seccomp program, or null for none (--no-seccomp). */
  seccompFd: number | null
  limits: SandboxLimits
}

/** The box's PATH unless an image's Env sets one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Variables through which common clients (curl, Node, Python, Git, AWS) find a CA bundle. */
export const CA_VARIABLES = [
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'AWS_CA_BUNDLE',
] as const

/**
 * The `bwrap` arguments for one box. Pure: the host facts it needs arrive in `spec`.
 *
 * @example
 * spawn('bwrap', bwrapArgs({ ...spec, command: ['python', 'agent.py'] }), { stdio: 'inherit' })
 */
export function bwrapArgs(spec: BoxSpec): string[] {
  return [
    ...namespaceArgs(spec.sandboxId),
    ...userArgs(spec.user),
    ...seccompArgs(spec.seccompFd),
    ...rootArgs(spec),
    ...privateMountArgs(spec),
    ...envArgs(spec),
    '--chdir',
    spec.cwd ?? spec.workdir ?? BOX_FRESH_WORKDIR,
    '--',
    '/bin/sh',
    '-c',
    wrapperScript(spec.limits),
    'tollgate-sandbox',
    ...spec.command,
  ]
}

// Every namespace, no capabilities, and a new session so the agent cannot push keystrokes into
// the caller's terminal (TIOCSTI). The box dies with `tollgate run`.
function namespaceArgs(sandboxId: string): string[] {
  return [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    `tollgate-${sandboxId.slice(-8)}`,
  ]
}

// bwrap maps the caller's uid and gid to these inside the box's user namespace; outside, the
// processes stay the caller's.
function userArgs(user: BoxUser | null): string[] {
  if (user === null) return []
  return ['--uid', String(user.uid), '--gid', String(user.gid)]
}

// bwrap reads the program from this fd and installs it just before it execs the wrapper, so
// the wrapper, the bridge and the agent all run under it.
function seccompArgs(fd: number | null): string[] {
  return fd === null ? [] : ['--seccomp', String(fd)]
}

function rootArgs(spec: BoxSpec): string[] {
  if (spec.root.kind === 'image') return ['--ro-bind', spec.root.dir, '/']
  const args: string[] = []
  for (const entry of spec.root.host.entries) {
    if (entry.symlink !== null) args.push('--symlink', entry.symlink, entry.path)
    else args.push('--ro-bind', entry.path, entry.path)
  }
  return [...args, ...hiddenArgs(spec.root.host.hidden)]
}

// Mounted over the read-only /etc: an empty file (/dev/null) or an empty read-only directory.
function hiddenArgs(hidden: readonly HiddenEntry[]): string[] {
  const args: string[] = []
  for (const { path, kind } of hidden) {
    if (kind === 'file') args.push('--ro-bind', '/dev/null', path)
    else args.push('--tmpfs', path, '--remount-ro', path)
  }
  return args
}

// Fresh /proc, /dev, /tmp, /run and $HOME; only the sandbox's own socket and CA come from the
// state directory, never the directory itself.
function privateMountArgs(spec: BoxSpec): string[] {
  const args = ['--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run']
  args.push('--tmpfs', spec.home)
  if (spec.workdir === null) args.push('--tmpfs', BOX_FRESH_WORKDIR)
  else args.push('--bind', spec.workdir, spec.workdir)

  args.push('--dir', BOX_RUN_DIR)
  args.push('--bind', spec.relaySocket, BOX_RELAY_SOCKET)
  args.push('--ro-bind', spec.caFile, BOX_CA_FILE)
  // Everything leaves through the relay, so the relay CA is the only root the box needs.
  if (spec.root.kind === 'host' && spec.root.host.hasSystemBundle) {
    args.push('--ro-bind', spec.caFile, BOX_SYSTEM_BUNDLE)
  }
  return args
}

/**
 * The box's whole environment: nothing of the host's leaks in (no AWS_*, no tokens). An
 * image's Env is the base; Tollgate's proxy, CA and HOME variables always win over it, so an
 * image cannot route the agent around the relay's CA or the box's own home.
 */
export function boxEnv(spec: BoxSpec): Record<string, string> {
  const env: Record<string, string> = {
    ...spec.imageEnv,
    ...spec.env,
    PATH: spec.imageEnv['PATH'] ?? DEFAULT_PATH,
    HOME: spec.home,
  }
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
    env[name] = BOX_PROXY_URL
  }
  // Empty, so even loopback and "internal" names go to the relay.
  env['NO_PROXY'] = ''
  env['no_proxy'] = ''
  for (const name of CA_VARIABLES) env[name] = BOX_CA_FILE
  env['TOLLGATE_SANDBOX_ID'] = spec.sandboxId
  return env
}

function envArgs(spec: BoxSpec): string[] {
  const args = ['--clearenv']
  for (const [name, value] of Object.entries(boxEnv(spec))) args.push('--setenv', name, value)
  return args
}

/**
 * The box's init script, run as `/bin/sh -c SCRIPT tollgate-sandbox COMMAND...`: start the
 * loopback bridge to the relay socket, wait until it listens (read from /proc/net/tcp, so no
 * probe connection reaches the relay), apply the rlimits, then exec the agent.
 */
export function wrapperScript(limits: SandboxLimits): string {
  const port = BOX_PROXY_PORT.toString(16).toUpperCase().padStart(4, '0')
  return [
    `socat TCP-LISTEN:${BOX_PROXY_PORT},bind=127.0.0.1,fork,reuseaddr ` +
      `UNIX-CONNECT:${BOX_RELAY_SOCKET} &`,
    'i=0',
    `until grep -q ' 0100007F:${port} 00000000:0000 0A' /proc/net/tcp; do`,
    '  i=$((i+1))',
    `  if [ "$i" -gt 2000 ]; then echo 'tollgate: the relay bridge did not start' >&2; ` +
      `exit ${BRIDGE_FAILED_STATUS}; fi`,
    '  sleep 0.005',
    'done',
    ...ulimitLines(limits),
    'exec "$@"',
  ].join('\n')
}

function ulimitLines(limits: SandboxLimits): string[] {
  const lines: string[] = []
  if (limits.memoryBytes !== null) {
    lines.push(`ulimit -v ${Math.max(1, Math.floor(limits.memoryBytes / 1024))}`)
  }
  // bash and busybox name the process limit -u; dash (Debian's /bin/sh) names it -p.
  if (limits.pids !== null) {
    lines.push(`{ ulimit -u ${limits.pids} 2>/dev/null || ulimit -p ${limits.pids}; }`)
  }
  if (limits.cpuSeconds !== null) lines.push(`ulimit -t ${limits.cpuSeconds}`)
  // A limit the shell cannot set must stop the box, not silently run it unlimited.
  return lines.map((line) => `${line} || exit ${BRIDGE_FAILED_STATUS}`)
}
