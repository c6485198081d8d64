/**
 * A tiny classic-BPF assembler, enough for seccomp filters: absolute 32-bit loads from
 * `struct seccomp_data`, conditional jumps on a constant, and returns. Jumps name labels, so a
 * filter reads top to bottom and the offsets (which classic BPF limits to 0..255 forward) are
 * computed and checked in one place.
 */

/** One `struct sock_filter`: u16 code, u8 jt, u8 jf, u32 k. */
export interface SockFilter {
  code: number
  jt: number
  jf: number
  k: number
}

// Opcodes of `linux/bpf_common.h`, combined.
export const BPF_LD_W_ABS = 0x20
export const BPF_JMP_JA = 0x05
export const BPF_JMP_JEQ_K = 0x15
export const BPF_JMP_JGE_K = 0x35
export const BPF_JMP_JSET_K = 0x45
export const BPF_RET_K = 0x06

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAX_INSNS = 4096

/** Where a conditional jump goes: a label, or `null` for the next instruction. */
export type Target = string | null

type Step =
  | { kind: 'insn'; insn: SockFilter }
  | { kind: 'jump'; code: number; k: number; jt: Target; jf: Target }
  | { kind: 'goto'; target: string }
  | { kind: 'label'; name: string }

/** Collects instructions and labels, then resolves jumps into a program. */
export class BpfAssembler {
  #steps: Step[] = []

  /** `A = *(u32 *)(seccomp_data + offset)` */
  load(offset: number): this {
    return this.#insn({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: offset })
  }

  /** `if (A == k) goto jt else goto jf` */
  jumpIfEqual(k: number, jt: Target, jf: Target = null): this {
    return this.#jump(BPF_JMP_JEQ_K, k, jt, jf)
  }

  /** `if (A >= k) goto jt else goto jf` (unsigned) */
  jumpIfAtLeast(k: number, jt: Target, jf: Target = null): this {
    return this.#jump(BPF_JMP_JGE_K, k, jt, jf)
  }

  /** `if (A & k) goto jt else goto jf` */
  jumpIfAnyBit(k: number, jt: Target, jf: Target = null): this {
    return this.#jump(BPF_JMP_JSET_K, k, jt, jf)
  }

  goto(target: string): this {
    this.#steps.push({ kind: 'goto', target })
    return this
  }

  ret(value: number): this {
    return this.#insn({ code: BPF_RET_K, jt: 0, jf: 0, k: value })
  }

  label(name: string): this {
    if (this.#steps.some((step) => step.kind === 'label' && step.name === name)) {
      throw new Error(`BPF label ${name} defined twice`)
    }
    this.#steps.push({ kind: 'label', name })
    return this
  }

  /** The program with every label resolved; throws on an unknown label or a jump too far. */
  assemble(): SockFilter[] {
    const positions = this.#labelPositions()
    const program: SockFilter[] = []
    for (const step of this.#steps) {
      if (step.kind === 'label') continue
      const at = program.length
      const offset = (target: Target) => (target === null ? 0 : distance(positions, target, at))
      if (step.kind === 'insn') program.push(step.insn)
      else if (step.kind === 'goto') {
        program.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: offset(step.target) })
      } else {
        program.push({ code: step.code, jt: offset(step.jt), jf: offset(step.jf), k: step.k })
      }
    }
    if (program.length > BPF_MAX_INSNS) throw new Error('BPF program too long')
    return program
  }

  #labelPositions(): Map<string, number> {
    const positions = new Map<string, number>()
    let at = 0
    for (const step of this.#steps) {
      if (step.kind === 'label') positions.set(step.name, at)
      else at++
    }
    return positions
  }

  #insn(insn: SockFilter): this {
    this.#steps.push({ kind: 'insn', insn })
    return this
  }

  #jump(code: number, k: number, jt: Target, jf: Target): this {
    this.#steps.push({ kind: 'jump', code, k: k >>> 0, jt, jf })
    return this
  }
}

// Classic BPF only jumps forward, relative to the next instruction; conditional offsets are u8.
function distance(positions: Map<string, number>, target: string, at: number): number {
  const position = positions.get(target)
  if (position === undefined) throw new Error(`BPF label ${target} is not defined`)
  const offset = position - at - 1
  if (offset < 0 || offset > 255) throw new Error(`BPF jump to ${target} out of range`)
  return offset
}

/** The program as the kernel (and `bwrap --seccomp`) reads it: 8 bytes per instruction, LE. */
export function encodeProgram(program: readonly SockFilter[]): Buffer {
  const bytes = Buffer.alloc(program.length * 8)
  program.forEach((insn, i) => {
    bytes.writeUInt16LE(insn.code, i * 8)
    bytes.writeUInt8(insn.jt, i * 8 + 2)
    bytes.writeUInt8(insn.jf, i * 8 + 3)
    bytes.writeUInt32LE(insn.k >>> 0, i * 8 + 4)
  })
  return bytes
}
