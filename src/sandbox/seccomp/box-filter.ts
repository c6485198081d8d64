import { TollgateError } from '../../errors/tollgate-error.js'
import { BpfAssembler, encodeProgram, type SockFilter } from './bpf.js'
import { syscallTableFor, type SyscallName, type SyscallTable } from './syscall-table.js'

// Return values of a seccomp filter (linux/seccomp.h).
export const SECCOMP_RET_KILL_PROCESS = 0x80000000
export const SECCOMP_RET_ERRNO = 0x00050000
export const SECCOMP_RET_ALLOW = 0x7fff0000
export const EPERM = 1
export const ENOSYS = 38

// Offsets in `struct seccomp_data`: nr u32, arch u32, ip u64, args[6] u64. Only the low half of
// args[0] is read: the kernel truncates flags, families and personas to 32 bits itself.
const NR_OFFSET = 0
const ARCH_OFFSET = 4
const ARG0_LOW_OFFSET = 16

/**
 * What the box refuses with EPERM, by why. An agent needs none of these to run tools and talk
 * HTTP; each is either a way to reach past the box (other processes, namespaces, mounts) or a
 * large kernel surface that unprivileged user namespaces expose to bugs.
 */
export const DENIED_SYSCALLS: Readonly<Record<string, readonly SyscallName[]>> = {
  'reading or steering other processes': [
    'ptrace',
    'process_vm_readv',
    'process_vm_writev',
    'kcmp',
  ],
  'the kernel keyring, shared beyond the box': ['keyctl', 'add_key', 'request_key'],
  'mounts, which could reshape the box from inside': [
    'mount',
    'umount2',
    'pivot_root',
    'move_mount',
    'open_tree',
    'fsopen',
    'fsconfig',
    'fsmount',
    'fspick',
    'mount_setattr',
  ],
  'new namespaces, where a nested user namespace regains capabilities': ['unshare', 'setns'],
  'kernel programs and tracing': ['bpf', 'perf_event_open'],
  'replacing or extending the kernel': [
    'kexec_load',
    'kexec_file_load',
    'init_module',
    'finit_module',
    'delete_module',
  ],
  'administering the machine': ['reboot', 'swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd'],
  'the kernel log': ['syslog'],
  'surfaces with a record of kernel exploits': [
    'userfaultfd',
    'io_uring_setup',
    'io_uring_enter',
    'io_uring_register',
    'open_by_handle_at',
  ],
}

/** Socket families the box may create: local, IPv4/IPv6 to loopback, netlink (getifaddrs). */
export const ALLOWED_SOCKET_FAMILIES = { AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, AF_NETLINK: 16 }

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000

/** PER_LINUX, and 0xffffffff, which only asks for the current persona. */
export const ALLOWED_PERSONAS = [0, 0xffffffff]

/**
 * The box's seccomp program for one architecture, as `struct sock_filter` entries.
 *
 * A syscall from another ABI (a 32-bit binary, x86_64's x32) kills the process: its numbers
 * mean other syscalls, so this table cannot judge it. `clone3` gets ENOSYS, not EPERM, because
 * its flags live in memory a filter cannot read, and ENOSYS makes libc fall back to `clone`,
 * whose flags it can.
 */
export function boxFilter(table: SyscallTable): SockFilter[] {
  const asm = new BpfAssembler()
  const nr = (name: SyscallName) => table.numbers[name]
  asm.load(ARCH_OFFSET).jumpIfEqual(table.auditArch, null, 'kill')
  asm.load(NR_OFFSET)
  if (table.foreignAbiBit !== null) asm.jumpIfAtLeast(table.foreignAbiBit, 'kill')

  for (const name of Object.values(DENIED_SYSCALLS).flat()) asm.jumpIfEqual(nr(name), 'eperm')
  asm.jumpIfEqual(nr('clone3'), 'enosys')
  asm.jumpIfEqual(nr('clone'), 'clone')
  asm.jumpIfEqual(nr('socket'), 'socket')
  asm.jumpIfEqual(nr('socketpair'), 'socket')
  asm.jumpIfEqual(nr('personality'), 'personality')
  asm.goto('allow')

  asm.label('clone').load(ARG0_LOW_OFFSET)
  asm.jumpIfAnyBit(CLONE_NAMESPACE_FLAGS, 'eperm', 'allow')

  asm.label('socket').load(ARG0_LOW_OFFSET)
  for (const family of Object.values(ALLOWED_SOCKET_FAMILIES)) asm.jumpIfEqual(family, 'allow')
  asm.goto('eperm')

  asm.label('personality').load(ARG0_LOW_OFFSET)
  for (const persona of ALLOWED_PERSONAS) asm.jumpIfEqual(persona, 'allow')
  asm.goto('eperm')

  asm.label('allow').ret(SECCOMP_RET_ALLOW)
  asm.label('eperm').ret(SECCOMP_RET_ERRNO | EPERM)
  asm.label('enosys').ret(SECCOMP_RET_ERRNO | ENOSYS)
  asm.label('kill').ret(SECCOMP_RET_KILL_PROCESS)
  return asm.assemble()
}

/**
 * The encoded program for this machine, for `bwrap --seccomp FD`. An architecture without a
 * syscall table is refused rather than boxed without a filter the user did not turn off.
 */
export function hostSeccompProgram(arch: string = process.arch): Buffer {
  const table = syscallTableFor(arch)
  if (!table) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      `the sandbox seccomp filter does not know the ${arch} architecture (only x64 and arm64); ` +
        'run with --no-seccomp to start the box without it, which weakens the box',
    )
  }
  return encodeProgram(boxFilter(table))
}
