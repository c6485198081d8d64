import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CA_VARIABLES,
  DEFAULT_PATH,
  boxEnv,
  bwrapArgs,
  wrapperScript,
  type BoxSpec,
} from '../../../src/sandbox/bwrap-argv.js'
import { NO_LIMITS } from '../../../src/sandbox/sandbox-limits.js'

const spec: BoxSpec = {
  sandboxId: 'sbx_0123456789abcdef',
  command: ['python3', 'agent.py', '--flag'],
  relaySocket: '/state/sandboxes/sbx_0123456789abcdef/relay.sock',
  caFile: '/state/sandboxes/sbx_0123456789abcdef/ca.pem',
  root: {
    kind: 'host',
    host: {
      entries: [
        { path: '/usr', symlink: null },
        { path: '/bin', symlink: 'usr/bin' },
        { path: '/etc', symlink: null },
      ],
      hasSystemBundle: true,
      hidden: [
        { path: '/etc/shadow', kind: 'file' },
        { path: '/etc/ssl/private', kind: 'directory' },
      ],
    },
  },
  home: '/home/alice',
  workdir: '/home/alice/project',
  env: { API_KEY: 'tg-placeholder-0001', TERM: 'xterm' },
  imageEnv: {},
  cwd: null,
  user: null,
  seccompFd: null,
  limits: NO_LIMITS,
}

/** The index of `flag` followed by exactly `values`, or -1. */
function indexOfOption(args: string[], flag: string, ...values: string[]): number {
  return args.findIndex(
    (arg, i) => arg === flag && values.every((value, j) => args[i + 1 + j] === value),
  )
}

function hasOption(args: string[], flag: string, ...values: string[]): boolean {
  return indexOfOption(args, flag, ...values) >= 0
}

describe('bwrapArgs', () => {
  const args = bwrapArgs(spec)

  test('unshares every namespace, drops capabilities and dies with its parent', () => {
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session']) {
      assert.ok(args.includes(flag), flag)
    }
    assert.ok(hasOption(args, '--cap-drop', 'ALL'))
    assert.ok(!args.includes('--share-net'))
  })

  test('the host system is read-only and merged-/usr links stay links', () => {
    assert.ok(hasOption(args, '--ro-bind', '/usr', '/usr'))
    assert.ok(hasOption(args, '--ro-bind', '/etc', '/etc'))
    assert.ok(hasOption(args, '--symlink', 'usr/bin', '/bin'))
    assert.ok(!hasOption(args, '--bind', '/usr', '/usr'))
  })

  test("what not every user may read in the host's /etc is empty, after /etc is bound", () => {
    const etc = indexOfOption(args, '--ro-bind', '/etc', '/etc')
    const shadow = indexOfOption(args, '--ro-bind', '/dev/null', '/etc/shadow')
    const tmpfs = indexOfOption(args, '--tmpfs', '/etc/ssl/private')
    assert.ok(etc >= 0 && shadow > etc && tmpfs > etc)
    assert.ok(hasOption(args, '--remount-ro', '/etc/ssl/private'))
  })

  test('home is a fresh tmpfs mounted before the working directory is bound into it', () => {
    const tmpfsHome = indexOfOption(args, '--tmpfs', '/home/alice')
    const workdir = indexOfOption(args, '--bind', '/home/alice/project', '/home/alice/project')
    assert.ok(tmpfsHome >= 0 && workdir > tmpfsHome)
    assert.ok(!hasOption(args, '--bind', '/home/alice', '/home/alice'))
    assert.ok(!hasOption(args, '--ro-bind', '/home/alice', '/home/alice'))
    assert.ok(hasOption(args, '--chdir', '/home/alice/project'))
  })

  test('only the sandbox socket and CA come from the state directory', () => {
    const fromState = args.filter((arg) => arg.startsWith('/state'))
    assert.deepEqual(fromState.sort(), [spec.caFile, spec.caFile, spec.relaySocket].sort())
    assert.ok(hasOption(args, '--bind', spec.relaySocket, '/run/tollgate/relay.sock'))
    assert.ok(hasOption(args, '--ro-bind', spec.caFile, '/run/tollgate/ca.pem'))
    assert.ok(hasOption(args, '--ro-bind', spec.caFile, '/etc/ssl/certs/ca-certificates.crt'))
    for (const dir of ['/proc', '/dev']) assert.ok(args.includes(dir))
    assert.ok(hasOption(args, '--tmpfs', '/tmp'))
    assert.ok(hasOption(args, '--tmpfs', '/run'))
  })

  test('a fresh working directory is a tmpfs at /work', () => {
    const fresh = bwrapArgs({ ...spec, workdir: null })
    assert.ok(hasOption(fresh, '--tmpfs', '/work'))
    assert.ok(hasOption(fresh, '--chdir', '/work'))
    assert.ok(!fresh.includes('/home/alice/project'))
  })

  test('an image directory becomes the read-only root instead of the host system', () => {
    const image = bwrapArgs({ ...spec, root: { kind: 'image', dir: '/images/alpine' } })
    assert.ok(hasOption(image, '--ro-bind', '/images/alpine', '/'))
    assert.ok(!hasOption(image, '--ro-bind', '/usr', '/usr'))
    assert.ok(!image.includes('/etc/ssl/certs/ca-certificates.crt'))
  })

  test('the environment is cleared and then set from the spec only', () => {
    const clear = args.indexOf('--clearenv')
    const firstSet = args.indexOf('--setenv')
    assert.ok(clear >= 0 && firstSet > clear)
    assert.ok(hasOption(args, '--setenv', 'API_KEY', 'tg-placeholder-0001'))
    assert.ok(hasOption(args, '--setenv', 'HTTPS_PROXY', 'http://127.0.0.1:3128'))
    assert.ok(hasOption(args, '--setenv', 'NO_PROXY', ''))
  })

  test('the seccomp program is read from the given fd, before the command; none without it', () => {
    const filtered = bwrapArgs({ ...spec, seccompFd: 3 })
    const at = indexOfOption(filtered, '--seccomp', '3')
    assert.ok(at >= 0 && at < filtered.indexOf('--'))
    assert.ok(!args.includes('--seccomp'))
  })

  test("an image's user becomes --uid/--gid; without one the caller's ids stay", () => {
    const user = bwrapArgs({ ...spec, user: { uid: 1000, gid: 100 } })
    assert.ok(hasOption(user, '--uid', '1000', '--gid', '100'))
    assert.ok(!args.includes('--uid') && !args.includes('--gid'))
  })

  test("an image's WorkingDir is where the command starts; the workdir is still bound", () => {
    const image = bwrapArgs({ ...spec, cwd: '/app' })
    assert.ok(hasOption(image, '--chdir', '/app'))
    assert.ok(hasOption(image, '--bind', '/home/alice/project', '/home/alice/project'))
  })

  test('the agent command follows the wrapper as its positional arguments', () => {
    const sh = args.indexOf('/bin/sh')
    assert.equal(args[sh - 1], '--')
    assert.equal(args[sh + 1], '-c')
    assert.deepEqual(args.slice(sh + 3), ['tollgate-sandbox', 'python3', 'agent.py', '--flag'])
  })
})

describe('boxEnv', () => {
  test('every CA variable points at the copied relay CA', () => {
    const env = boxEnv(spec)
    for (const name of CA_VARIABLES) assert.equal(env[name], '/run/tollgate/ca.pem', name)
    assert.equal(env['HOME'], '/home/alice')
    assert.equal(env['TOLLGATE_SANDBOX_ID'], spec.sandboxId)
  })

  test("an image's Env is the base: its PATH is used, placeholders override the rest", () => {
    const env = boxEnv({
      ...spec,
      imageEnv: { PATH: '/opt/app/bin:/bin', LANG: 'C.UTF-8', API_KEY: 'from-image' },
    })
    assert.equal(env['PATH'], '/opt/app/bin:/bin')
    assert.equal(env['LANG'], 'C.UTF-8')
    assert.equal(env['API_KEY'], 'tg-placeholder-0001')
    assert.equal(boxEnv(spec)['PATH'], DEFAULT_PATH)
  })

  test("an image's Env cannot override the proxy, CA, HOME or sandbox id", () => {
    const imageEnv = {
      HTTPS_PROXY: 'http://elsewhere:8080',
      NO_PROXY: '*',
      NODE_EXTRA_CA_CERTS: '/image/ca.pem',
      HOME: '/root',
      TOLLGATE_SANDBOX_ID: 'sbx_other',
    }
    const env = boxEnv({ ...spec, imageEnv })
    assert.equal(env['HTTPS_PROXY'], 'http://127.0.0.1:3128')
    assert.equal(env['NO_PROXY'], '')
    assert.equal(env['NODE_EXTRA_CA_CERTS'], '/run/tollgate/ca.pem')
    assert.equal(env['HOME'], '/home/alice')
    assert.equal(env['TOLLGATE_SANDBOX_ID'], spec.sandboxId)
  })

  test('the spec cannot override the proxy or CA settings', () => {
    const env = boxEnv({ ...spec, env: { HTTPS_PROXY: 'http://evil:1', SSL_CERT_FILE: '/x' } })
    assert.equal(env['HTTPS_PROXY'], 'http://127.0.0.1:3128')
    assert.equal(env['SSL_CERT_FILE'], '/run/tollgate/ca.pem')
  })
})

describe('wrapperScript', () => {
  test('starts the bridge, waits for 127.0.0.1:3128 to listen, then execs the agent', () => {
    const script = wrapperScript(NO_LIMITS)
    assert.match(
      script,
      /^socat TCP-LISTEN:3128,bind=127\.0\.0\.1,fork,reuseaddr UNIX-CONNECT:\/run\/tollgate\/relay\.sock &/,
    )
    assert.ok(script.includes(' 0100007F:0C38 00000000:0000 0A'))
    assert.ok(script.trimEnd().endsWith('exec "$@"'))
    assert.ok(!script.includes('ulimit'))
  })

  test('limits become ulimit lines that stop the box when they cannot be set', () => {
    const script = wrapperScript({
      ...NO_LIMITS,
      memoryBytes: 512 * 1024 * 1024,
      pids: 64,
      cpuSeconds: 30,
      wallSeconds: 60,
    })
    assert.ok(script.includes('ulimit -v 524288 || exit 125'))
    assert.ok(script.includes('{ ulimit -u 64 2>/dev/null || ulimit -p 64; } || exit 125'))
    assert.ok(script.includes('ulimit -t 30 || exit 125'))
    assert.ok(script.indexOf('ulimit') < script.indexOf('exec "$@"'))
  })
})
