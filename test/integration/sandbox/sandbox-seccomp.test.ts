import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { linesOf } from '../../helpers/cli.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'

// The box sees the host's /usr: Debian's python3 and the host's Node when they live there.
const PYTHON = '/usr/bin/python3'
const hostNode = /^\/(usr|bin)\//.test(process.execPath) ? process.execPath : null

/** A python3 line that prints `LABEL errno` (0 on success) for one call. */
const pyErrno = (label: string, call: string) =>
  `${PYTHON} -c 'import socket, ctypes, os
try:
    ${call}
    print("${label} 0")
except OSError as e:
    print("${label}", e.errno)'`

const libc = 'libc = ctypes.CDLL(None, use_errno=True)'
/** A raw syscall through ctypes: prints `LABEL errno` when it fails, `LABEL 0` otherwise. */
const pySyscall = (label: string, args: string) =>
  `${PYTHON} -c 'import ctypes, os
${libc}
r = libc.syscall(${args})
if r == 0 and "${label}" == "clone": os._exit(0)
print("${label}", ctypes.get_errno() if r == -1 else 0)'`

/**
 * Raw syscalls as `[x86_64 number, aarch64 number, ...arguments]`, each chosen to get past the
 * kernel's own checks without the filter: ptrace(PTRACE_TRACEME), keyctl(GET_KEYRING_ID,
 * session), add_key("user"), mount with an unreadable type (EFAULT comes before any permission
 * check), umount2 of nothing (ENOENT), personality(ADDR_NO_RANDOMIZE), bpf with no attributes
 * (EINVAL), perf_event_open and io_uring_setup with no attributes (EFAULT), process_vm_readv
 * with bad flags (EINVAL), kcmp of ourselves, setns on a bad fd (EBADF).
 */
const PROBES: Record<string, [number, number, ...string[]]> = {
  ptrace: [101, 117, '0', '0', '0', '0'],
  keyctl: [250, 219, '0', 'ctypes.c_long(-3)', '0'],
  add_key: [248, 217, 'b"user"', 'b"d"', 'b"x"', '1', 'ctypes.c_long(-3)'],
  mount: [165, 40, '0', '0', 'ctypes.c_void_p(1)', '0', '0'],
  umount2: [166, 39, 'b"/nonexistent"', '0'],
  personality: [135, 92, '0x0040000'],
  bpf: [321, 280, '0', '0', '0'],
  perf_event_open: [298, 241, '0', '0', '-1', '-1', '0'],
  io_uring_setup: [425, 425, '1', '0'],
  process_vm_readv: [310, 270, '1', '0', '0', '0', '0', '1'],
  kcmp: [312, 272, 'os.getpid()', 'os.getpid()', '0', '0', '0'],
  setns: [308, 268, '-1', '0'],
}

/** A python3 program that makes each probe and prints `NAME errno` (0 on success). */
function probeCalls(): string {
  const lines = ['import ctypes, os', 'libc = ctypes.CDLL(None, use_errno=True)']
  for (const [name, [x86, arm, ...args]] of Object.entries(PROBES)) {
    const nr = process.arch === 'arm64' ? arm : x86
    lines.push(`r = libc.syscall(${[nr, ...args].join(', ')})`)
    lines.push(`print("${name}", ctypes.get_errno() if r == -1 else 0)`)
  }
  return lines.join('\n')
}

describe('tollgate run: the seccomp filter', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace

  const box = (script: string, args: string[] = []) => sb.box(script, args)
  const url = (path: string) => sb.url(path)
  /** `name=STATUS` for a command whose output is dropped. */
  const status = (name: string, command: string) => `${command} >/dev/null 2>&1; echo "${name}=$?"`

  before(async () => {
    sb = await startSandboxWorkspace()
  })

  after(() => sb.stop())

  test('the box runs under a filter; new namespaces and mounts are refused', async () => {
    const script = [
      'grep "^Seccomp:" /proc/self/status',
      'unshare -U true 2>&1; echo "unshare=$?"',
      'mount -t tmpfs x /tmp 2>&1; echo "mount=$?"',
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    const out = result.stdout
    assert.match(out, /^Seccomp:\s+2$/m)
    assert.match(out, /unshare failed: Operation not permitted\nunshare=1/)
    assert.match(out, /^mount=32$/m)
    assert.ok(!out.includes('mount=0'))
  })

  test(
    'socket families other than unix, inet, inet6, netlink get EPERM',
    { skip: !existsSync(PYTHON) && process.env['CI'] !== 'true' },
    async () => {
      const script = [
        pyErrno('packet', 'socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'),
        pyErrno('alg', 'socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET)'),
        pyErrno('vsock', 'socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)'),
        pyErrno('unix', 'socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)'),
        pyErrno('inet6', 'socket.socket(socket.AF_INET6, socket.SOCK_STREAM)'),
        pyErrno('netlink', 'socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)'),
      ].join('; ')
      const result = await box(script)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(linesOf(result.stdout), [
        'packet 1',
        'alg 1',
        'vsock 1',
        'unix 0',
        'inet6 0',
        'netlink 0',
      ])

      // Without the filter AF_ALG and AF_VSOCK are not refused (a vsock socket even opens);
      // AF_PACKET still is, for want of CAP_NET_RAW, so for it the unit test is the proof.
      const unfiltered = await box(script, ['--no-seccomp'])
      const unfilteredErrno = (name: string) =>
        linesOf(unfiltered.stdout).find((line) => line.startsWith(`${name} `))
      assert.notEqual(unfilteredErrno('alg'), 'alg 1', unfiltered.stdout)
      assert.notEqual(unfilteredErrno('vsock'), 'vsock 1', unfiltered.stdout)
      assert.match(unfilteredErrno('alg') ?? '', /^alg \d+$/)
    },
  )

  test(
    'clone with a namespace flag gets EPERM; clone3 gets ENOSYS',
    { skip: !existsSync(PYTHON) && process.env['CI'] !== 'true' },
    async () => {
      // clone(CLONE_NEWUSER | SIGCHLD, 0, ...) on x86_64 is nr 56; clone3 is 435 on both arches.
      const cloneNr = process.arch === 'arm64' ? 220 : 56
      const script = [
        pySyscall('clone', `${cloneNr}, 0x10000011, 0, 0, 0, 0`),
        pySyscall('clone3', '435, 0, 0'),
      ].join('; ')
      const result = await box(script)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(linesOf(result.stdout), ['clone 1', 'clone3 38'])
    },
  )

  test(
    'ptrace, keyrings, mounts, personality, bpf and the rest get EPERM from the filter itself',
    { skip: !existsSync(PYTHON) && process.env['CI'] !== 'true' },
    async () => {
      // Arguments that fail differently without the filter (EFAULT, EBADF, ENOENT) or succeed,
      // so that EPERM can only come from the filter, not from missing capabilities.
      const script = `${PYTHON} -c '${probeCalls()}'`
      const filtered = await box(script)
      const unfiltered = await box(script, ['--no-seccomp'])
      assert.equal(filtered.code, 0, filtered.stderr)
      assert.equal(unfiltered.code, 0, unfiltered.stderr)

      const names = Object.keys(PROBES)
      assert.deepEqual(
        linesOf(filtered.stdout),
        names.map((name) => `${name} 1`),
      )
      for (const line of linesOf(unfiltered.stdout)) {
        assert.doesNotMatch(line, / 1$/, `without the filter: ${line}`)
      }
      assert.equal(linesOf(unfiltered.stdout).length, names.length)
    },
  )

  test('what agents need still works: curl through the relay, ls, sh, Node, python', async () => {
    const script = [
      `curl -s -o /dev/null -w 'curl=%{http_code}\\n' ${url('/open/seccomp')}`,
      status('ls', 'ls /usr'),
      status('sh', 'sh -c "exit 0"'),
      // Node's own threads are made with clone3-then-clone; a child process too.
      hostNode === null
        ? 'echo node=0'
        : status('node', `${hostNode} -e "require('child_process').execSync('true')"`),
      existsSync(PYTHON)
        ? status(
            'python',
            `${PYTHON} -c "import threading; t = threading.Thread(target=print); t.start(); t.join()"`,
          )
        : 'echo python=0',
    ].join('; ')
    const result = await box(script)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), ['curl=200', 'ls=0', 'sh=0', 'node=0', 'python=0'])
    assert.ok(sb.upstream.received.some((r) => r.url === '/open/seccomp'))
  })

  test('--no-seccomp runs without the filter, and both are recorded', async () => {
    writeFileSync(join(sb.project, 'marker'), '')
    const script = ['grep "^Seccomp:" /proc/self/status', status('unshare', 'unshare -U true')]
    const result = await box(`${script.join('; ')}; echo "id=$TOLLGATE_SANDBOX_ID"`, [
      '--no-seccomp',
    ])
    assert.equal(result.code, 0, result.stderr)
    const lines = linesOf(result.stdout)
    assert.match(lines[0] ?? '', /^Seccomp:\s+0$/)
    // Without the filter a nested user namespace is allowed: the filter is what refused it.
    assert.equal(lines[1], 'unshare=0')
    const unfiltered = (lines[2] ?? '').slice('id='.length)

    const filtered = await box('echo "id=$TOLLGATE_SANDBOX_ID"')
    const filteredId = linesOf(filtered.stdout)[0]?.slice('id='.length)

    const exported = await sb.ws.run(['audit', 'export', '--format', 'jsonl'])
    const started = linesOf(exported.stdout)
      .map((line) => JSON.parse(line) as { type: string; sandbox_id: string; detail: unknown })
      .filter((event) => event.type === 'sandbox.started')
    const seccompOf = (id: string | undefined) =>
      (started.find((e) => e.sandbox_id === id)?.detail as { seccomp?: unknown })?.seccomp
    assert.equal(seccompOf(unfiltered), false)
    assert.equal(seccompOf(filteredId), true)
  })

  test('sandbox list shows whether a running box has the filter', async () => {
    const script =
      'touch listed-ready; i=0; until [ -e listed-done ] || [ $i -gt 300 ]; do i=$((i+1)); sleep 0.1; done'
    const running = box(script)
    const deadline = Date.now() + 30_000
    while (!existsSync(join(sb.project, 'listed-ready')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const json = await sb.ws.run(['sandbox', 'list', '--json'])
    const text = await sb.ws.run(['sandbox', 'list'])
    writeFileSync(join(sb.project, 'listed-done'), '')
    assert.equal((await running).code, 0)

    const listed = JSON.parse(json.stdout) as Array<{ seccomp: unknown }>
    assert.equal(listed.length, 1, json.stdout)
    assert.equal(listed[0]?.seccomp, true)
    assert.equal(linesOf(text.stdout)[0]?.split('\t')[4], 'seccomp')
  })
})
