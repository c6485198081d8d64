/** One member of a tar archive, with the GNU and PAX long names and link targets applied. */
export interface TarEntry {
  name: string
  /** The tar type flag: '0' file, '1' hard link, '2' symlink, '5' directory, others. */
  type: string
  mode: number
  linkName: string
  data: Buffer
}

const BLOCK = 512

/**
 * The entries of an uncompressed tar archive (ustar, GNU and PAX), in archive order. Reads the
 * whole archive from memory; names are returned exactly as stored, unchecked (see safe-path.ts).
 */
export function* readTar(archive: Buffer): Generator<TarEntry> {
  let offset = 0
  let longName: string | null = null
  let longLink: string | null = null
  let pax: Record<string, string> = {}
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK)
    if (header.every((byte) => byte === 0)) return
    checkChecksum(header, offset)
    const size = octal(header.subarray(124, 136))
    const type = String.fromCharCode(header[156] ?? 0).replace('\0', '0')
    const dataStart = offset + BLOCK
    if (dataStart + size > archive.length) throw new Error(`tar truncated at offset ${offset}`)
    const data = archive.subarray(dataStart, dataStart + size)
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK

    if (type === 'L') longName = cString(data)
    else if (type === 'K') longLink = cString(data)
    else if (type === 'x') pax = parsePax(data)
    else if (type === 'g') continue
    else {
      yield {
        name: pax['path'] ?? longName ?? ustarName(header),
        type,
        mode: octal(header.subarray(100, 108)),
        linkName: pax['linkpath'] ?? longLink ?? cString(header.subarray(157, 257)),
        data,
      }
      longName = null
      longLink = null
      pax = {}
    }
  }
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100))
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar'
  const prefix = isUstar ? cString(header.subarray(345, 500)) : ''
  return prefix === '' ? name : `${prefix}/${name}`
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0)
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8')
}

function octal(bytes: Buffer): number {
  // GNU base-256 for sizes over 8 GiB: first byte has the high bit set.
  if (((bytes[0] ?? 0) & 0x80) !== 0) throw new Error('tar member too large')
  const text = cString(bytes).trim()
  return text === '' ? 0 : parseInt(text, 8)
}

function checkChecksum(header: Buffer, offset: number): void {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0)
  if (sum !== octal(header.subarray(148, 156))) {
    throw new Error(`not a tar archive (bad header checksum at offset ${offset})`)
  }
}

/** PAX extended header records: `LEN key=value\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {}
  let at = 0
  while (at < data.length) {
    const space = data.indexOf(0x20, at)
    const length = Number(data.subarray(at, space).toString('latin1'))
    if (space === -1 || !Number.isInteger(length) || length <= 0) break
    const record = data.subarray(space + 1, at + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1)
    at += length
  }
  return records
}
