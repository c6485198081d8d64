/** One member to write with `buildTar`; `name` is written as given (tests need `../` names). */
export interface TarMember {
  name: string
  type?: 'file' | 'dir' | 'symlink' | 'hardlink'
  data?: Buffer | string
  mode?: number
  /** Symlink or hard-link target. */
  link?: string
}

const TYPE_FLAGS = { file: '0', dir: '5', symlink: '2', hardlink: '1' } as const

/**
 * A ustar archive of `members`, in order. Names over 100 bytes get a PAX header, so the
 * archive is what GNU tar or Docker would write.
 */
export function buildTar(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = []
  for (const member of members) {
    const type = member.type ?? 'file'
    const data = Buffer.from(member.data ?? '')
    if (Buffer.byteLength(member.name) > 99) {
      const record = paxRecord('path', member.name)
      blocks.push(header('PaxHeader', 'x', record.length, 0o644, ''), pad(record))
    }
    const mode = member.mode ?? (type === 'dir' ? 0o755 : 0o644)
    const size = type === 'file' ? data.length : 0
    blocks.push(header(member.name.slice(0, 99), TYPE_FLAGS[type], size, mode, member.link ?? ''))
    if (size > 0) blocks.push(pad(data))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

function header(name: string, flag: string, size: number, mode: number, link: string): Buffer {
  const block = Buffer.alloc(512)
  block.write(name, 0, 100, 'utf8')
  block.write(octal(mode, 8), 100)
  block.write(octal(0, 8), 108)
  block.write(octal(0, 8), 116)
  block.write(octal(size, 12), 124)
  block.write(octal(0, 12), 136)
  block.write(flag, 156)
  block.write(link, 157, 100, 'utf8')
  block.write('ustar\u000000', 257)
  block.fill(' ', 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(octal(sum, 8), 148)
  return block
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)])
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`
  let length = Buffer.byteLength(body)
  length += String(length + String(length).length).length
  return Buffer.from(`${length}${body}`)
}
