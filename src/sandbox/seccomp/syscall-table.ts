/**
 * The facts the box's seccomp filter needs about one machine architecture: the audit arch the
 * kernel puts in `seccomp_data.arch`, and the syscall numbers the filter names. Numbers are from
 * the kernel's `arch/x86/entry/syscalls/syscall_64.tbl` and the generic table aarch64 uses
 * (`include/uapi/asm-generic/unistd.h`).
 */
export interface SyscallTable {
  /** Node's name (`process.arch`). */
  name: 'x64' | 'arm64'
  auditArch: number
  /** Numbers at or above this belong to another ABI of the same arch (x86_64's x32), or null. */
  foreignAbiBit: number | null
  numbers: Record<SyscallName, number>
}

export type SyscallName = (typeof SYSCALL_NAMES)[number]

/** Every syscall the filter refers to by name. */
export const SYSCALL_NAMES = [
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'kcmp',
  'keyctl',
  'add_key',
  'request_key',
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
  'unshare',
  'setns',
  'clone',
  'clone3',
  'bpf',
  'perf_event_open',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'quotactl',
  'quotactl_fd',
  'userfaultfd',
  'personality',
  'syslog',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'socket',
  'socketpair',
  'open_by_handle_at',
] as const

const X86_64: SyscallTable = {
  name: 'x64',
  auditArch: 0xc000003e,
  foreignAbiBit: 0x40000000,
  numbers: {
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    kcmp: 312,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    unshare: 272,
    setns: 308,
    clone: 56,
    clone3: 435,
    bpf: 321,
    perf_event_open: 298,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    reboot: 169,
    swapon: 167,
    swapoff: 168,
    acct: 163,
    quotactl: 179,
    quotactl_fd: 443,
    userfaultfd: 323,
    personality: 135,
    syslog: 103,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    socket: 41,
    socketpair: 53,
    open_by_handle_at: 304,
  },
}

const AARCH64: SyscallTable = {
  name: 'arm64',
  auditArch: 0xc00000b7,
  foreignAbiBit: null,
  numbers: {
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    kcmp: 272,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    unshare: 97,
    setns: 268,
    clone: 220,
    clone3: 435,
    bpf: 280,
    perf_event_open: 241,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    reboot: 142,
    swapon: 224,
    swapoff: 225,
    acct: 89,
    quotactl: 60,
    quotactl_fd: 443,
    userfaultfd: 282,
    personality: 92,
    syslog: 116,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    socket: 198,
    socketpair: 199,
    open_by_handle_at: 265,
  },
}

const TABLES: readonly SyscallTable[] = [X86_64, AARCH64]

/** The table for a Node architecture name, or null when the filter does not know it. */
export function syscallTableFor(arch: string): SyscallTable | null {
  return TABLES.find((table) => table.name === arch) ?? null
}
