import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DENIED_SYSCALLS, hostSeccompProgram } from '../../../../src/sandbox/seccomp/box-filter.js'
import { BpfAssembler, encodeProgram } from '../../../../src/sandbox/seccomp/bpf.js'

// The expected values are written out here, not imported: the test must not share a mistake
// with the code it checks.
const ALLOW = 0x7fff0000
const EPERM = 0x00050001
const ENOSYS = 0x00050026
const KILL_PROCESS = 0x80000000

const X86_64 = 0xc000003e
const AARCH64 = 0xc00000b7
const I386 = 0x40000003

/** A call as the kernel describes it to the filter (`struct seccomp_data`). */
interface Call {
  nr: number
  arch: number
  args?: bigint[]
}

function seccompData(call: Call): Buffer {
  const data = Buffer.alloc(64)
  data.writeUInt32LE(call.nr >>> 0, 0)
  data.writeUInt32LE(call.arch >>> 0, 4)
  data.writeBigUInt64LE(0x400000n, 8)
  ;(call.args ?? []).forEach((arg, i) => data.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + i * 8))
  return data
}

/**
 * A classic-BPF interpreter for the instructions a seccomp filter may use, reading the program
 * from its encoded bytes as the kernel does. Anything else fails the test.
 */
function runFilter(program: Buffer, call: Call): number {
  assert.equal(program.length % 8, 0)
  const data = seccompData(call)
  let a = 0
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8)
    const jt = program.readUInt8(pc * 8 + 2)
    const jf = program.readUInt8(pc * 8 + 3)
    const k = program.readUInt32LE(pc * 8 + 4)
    const branch = (taken: boolean) => (pc += taken ? jt : jf)
    switch (code) {
      case 0x20: // ld w abs
        assert.ok(k % 4 === 0 && k + 4 <= 64, `load at ${k}`)
        a = data.readUInt32LE(k)
        break
      case 0x15: // jeq k
        branch(a === k)
        break
      case 0x35: // jge k
        branch(a >= k)
        break
      case 0x45: // jset k
        branch((a & k) >>> 0 !== 0)
        break
      case 0x05: // ja
        pc += k
        break
      case 0x06: // ret k
        return k
      default:
        assert.fail(`unexpected BPF opcode 0x${code.toString(16)} at ${pc}`)
    }
  }
  return assert.fail('the program ran off its end')
}

interface ArchCase {
  arch: 'x64' | 'arm64'
  auditArch: number
  nr: Record<string, number>
}

const ARCHES: ArchCase[] = [
  {
    arch: 'x64',
    auditArch: X86_64,
    nr: {
      read: 0,
      openat: 257,
      ptrace: 101,
      mount: 165,
      unshare: 272,
      setns: 308,
      keyctl: 250,
      bpf: 321,
      io_uring_setup: 425,
      clone: 56,
      clone3: 435,
      socket: 41,
      socketpair: 53,
      personality: 135,
      process_vm_readv: 310,
      init_module: 175,
    },
  },
  {
    arch: 'arm64',
    auditArch: AARCH64,
    nr: {
      read: 63,
      openat: 56,
      ptrace: 117,
      mount: 40,
      unshare: 97,
      setns: 268,
      keyctl: 219,
      bpf: 280,
      io_uring_setup: 425,
      clone: 220,
      clone3: 435,
      socket: 198,
      socketpair: 199,
      personality: 92,
      process_vm_readv: 270,
      init_module: 105,
    },
  },
]

const CLONE_THREAD_FLAGS = 0x003d0f00n // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|*TID
const SIGCHLD = 17n

for (const { arch, auditArch, nr } of ARCHES) {
  describe(`the box's seccomp filter on ${arch}`, () => {
    const program = hostSeccompProgram(arch)
    const call = (name: string, ...args: bigint[]) =>
      runFilter(program, { nr: nr[name] ?? assert.fail(name), arch: auditArch, args })

    test('ordinary calls are allowed', () => {
      assert.equal(call('read', 0n), ALLOW)
      assert.equal(call('openat', 0n), ALLOW)
    })

    test('ptrace, process_vm_readv, mount, unshare, setns, keyctl, bpf, io_uring get EPERM', () => {
      for (const name of [
        'ptrace',
        'process_vm_readv',
        'mount',
        'unshare',
        'setns',
        'keyctl',
        'bpf',
        'io_uring_setup',
        'init_module',
      ]) {
        assert.equal(call(name), EPERM, name)
      }
    })

    test('clone makes threads and processes, but no namespace', () => {
      assert.equal(call('clone', CLONE_THREAD_FLAGS), ALLOW)
      assert.equal(call('clone', SIGCHLD), ALLOW)
      for (const flag of [0x10000000n, 0x20000000n, 0x40000000n, 0x00020000n, 0x04000000n]) {
        assert.equal(call('clone', SIGCHLD | flag), EPERM, `flag 0x${flag.toString(16)}`)
      }
    })

    test('clone3 gets ENOSYS, so libc falls back to clone', () => {
      assert.equal(call('clone3', 0n, 88n), ENOSYS)
    })

    test('sockets: unix, inet, inet6 and netlink only', () => {
      for (const family of [1n, 2n, 10n, 16n]) assert.equal(call('socket', family, 1n), ALLOW)
      // AF_PACKET, AF_BLUETOOTH, AF_ALG, AF_VSOCK, AF_KEY.
      for (const family of [17n, 31n, 38n, 40n, 15n]) {
        assert.equal(call('socket', family, 3n), EPERM, `family ${family}`)
      }
      assert.equal(call('socketpair', 1n, 1n), ALLOW)
      assert.equal(call('socketpair', 38n, 5n), EPERM)
    })

    test('a family is judged by its low 32 bits, as the kernel reads an int', () => {
      assert.equal(call('socket', (1n << 32n) | 17n, 3n), EPERM)
      assert.equal(call('socket', (1n << 32n) | 2n, 1n), ALLOW)
    })

    test('personality: the default and the query only', () => {
      assert.equal(call('personality', 0n), ALLOW)
      assert.equal(call('personality', 0xffffffffn), ALLOW)
      assert.equal(call('personality', 0x0040000n), EPERM) // ADDR_NO_RANDOMIZE
      assert.equal(call('personality', 0x0800000n), EPERM) // READ_IMPLIES_EXEC
    })

    test('a call from another architecture kills the process', () => {
      const other = auditArch === X86_64 ? AARCH64 : X86_64
      assert.equal(runFilter(program, { nr: nr['read'] ?? 0, arch: other }), KILL_PROCESS)
      assert.equal(runFilter(program, { nr: 0, arch: I386 }), KILL_PROCESS)
    })
  })
}

describe('the box seccomp filter, x86_64 specifics', () => {
  const program = hostSeccompProgram('x64')

  test('the x32 ABI (numbers with bit 30 set) kills the process', () => {
    assert.equal(runFilter(program, { nr: 0x40000000, arch: X86_64 }), KILL_PROCESS)
    // x32 ptrace would otherwise dodge the x86_64 number check.
    assert.equal(runFilter(program, { nr: 0x40000000 + 521, arch: X86_64 }), KILL_PROCESS)
  })

  test('exactly the listed syscalls get EPERM when called with zero arguments', () => {
    // From arch/x86/entry/syscalls/syscall_64.tbl, by hand: ptrace, process_vm_*, kcmp,
    // keyring, mount family, unshare, setns, bpf, perf, kexec, modules, reboot, swap, acct,
    // quotactl(_fd), userfaultfd, syslog, io_uring, open_by_handle_at; and socket/socketpair,
    // since family 0 (AF_UNSPEC) is not an allowed one.
    const expected = [
      101, 310, 311, 312, 250, 248, 249, 165, 166, 155, 429, 428, 430, 431, 432, 433, 442, 272, 308,
      321, 298, 246, 320, 175, 313, 176, 169, 167, 168, 163, 179, 443, 323, 103, 425, 426, 427, 304,
      41, 53,
    ]
    const eperm: number[] = []
    for (let nr = 0; nr < 460; nr++) {
      if (runFilter(program, { nr, arch: X86_64 }) === EPERM) eperm.push(nr)
    }
    assert.deepEqual(
      eperm,
      [...expected].sort((a, b) => a - b),
    )
    assert.equal(Object.values(DENIED_SYSCALLS).flat().length, expected.length - 2)
    assert.equal(runFilter(program, { nr: 435, arch: X86_64 }), ENOSYS)
  })
})

describe('hostSeccompProgram', () => {
  test('an architecture without a table is refused with a hint at --no-seccomp', () => {
    assert.throws(
      () => hostSeccompProgram('riscv64'),
      (error: Error & { code?: string }) =>
        error.code === 'TOLLGATE_INVALID_ARGUMENT' &&
        /riscv64/.test(error.message) &&
        /--no-seccomp/.test(error.message),
    )
  })

  test('the program is whole 8-byte instructions, well under the kernel limit', () => {
    const program = hostSeccompProgram('x64')
    assert.equal(program.length % 8, 0)
    assert.ok(program.length / 8 < 200)
  })
})

describe('BpfAssembler', () => {
  test('encodes sock_filter little-endian: u16 code, u8 jt, u8 jf, u32 k', () => {
    const bytes = encodeProgram([{ code: 0x15, jt: 2, jf: 7, k: 0xc000003e }])
    assert.deepEqual([...bytes], [0x15, 0x00, 0x02, 0x07, 0x3e, 0x00, 0x00, 0xc0])
  })

  test('refuses unknown labels and jumps beyond 255 instructions', () => {
    assert.throws(() => new BpfAssembler().jumpIfEqual(1, 'nowhere').assemble(), /not defined/)
    const far = new BpfAssembler().jumpIfEqual(1, 'end')
    for (let i = 0; i < 300; i++) far.ret(0)
    far.label('end').ret(0)
    assert.throws(() => far.assemble(), /out of range/)
  })
})
