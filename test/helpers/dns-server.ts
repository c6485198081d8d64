import { createSocket, type Socket } from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'
import { parseIp } from '../../src/relay/destination/ip-address.js'

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for tests: it answers A and AAAA queries
 * from a table the test can change between queries, with a TTL of 0, so DNS rebinding (a name
 * whose answer flips from a public to a private address) can be staged for real.
 */
export interface DnsServer {
  /** `127.0.0.1:<port>`, as `server.dns.servers` takes it. */
  address: string
  /** Sets the addresses a name answers with (IPv4 and IPv6 mixed); [] answers "no data". */
  set(name: string, addresses: string[]): void
  /** How many queries asked for the name so far (A and AAAA each count). */
  queries(name: string): number
  close(): Promise<void>
}

const TYPE_A = 1
const TYPE_AAAA = 28

export async function startDnsServer(): Promise<DnsServer> {
  const table = new Map<string, string[]>()
  const counts = new Map<string, number>()
  const socket = createSocket('udp4')

  socket.on('message', (query, peer) => {
    const parsed = parseQuery(query)
    if (parsed === null) return
    counts.set(parsed.name, (counts.get(parsed.name) ?? 0) + 1)
    const reply = buildReply(query, parsed, table.get(parsed.name))
    socket.send(reply, peer.port, peer.address)
  })
  await bind(socket)

  return {
    address: `127.0.0.1:${socket.address().port}`,
    set: (name, addresses) => void table.set(name.toLowerCase(), addresses),
    queries: (name) => counts.get(name.toLowerCase()) ?? 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  }
}

function bind(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
}

interface Query {
  name: string
  type: number
  /** Offset just past the question section. */
  end: number
}

function parseQuery(message: Buffer): Query | null {
  if (message.length < 12 || message.readUInt16BE(4) !== 1) return null
  const labels: string[] = []
  let offset = 12
  while (offset < message.length) {
    const length = message[offset] ?? 0
    offset += 1
    if (length === 0) break
    labels.push(
      message
        .subarray(offset, offset + length)
        .toString('ascii')
        .toLowerCase(),
    )
    offset += length
  }
  if (offset + 4 > message.length) return null
  return { name: labels.join('.'), type: message.readUInt16BE(offset), end: offset + 4 }
}

function buildReply(query: Buffer, parsed: Query, addresses: string[] | undefined): Buffer {
  const records = (addresses ?? []).flatMap((address) => record(parsed.type, address))
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  // QR, AA, RD copied; RCODE 3 (NXDOMAIN) for a name the table does not know.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (addresses ? 0 : 3), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(records.length, 6)
  return Buffer.concat([header, query.subarray(12, parsed.end), ...records])
}

function record(type: number, address: string): Buffer[] {
  const wanted = (type === TYPE_A && isIPv4(address)) || (type === TYPE_AAAA && isIPv6(address))
  if (!wanted) return []
  const data = addressBytes(address)
  const head = Buffer.alloc(12)
  head.writeUInt16BE(0xc00c, 0) // pointer to the question's name
  head.writeUInt16BE(type, 2)
  head.writeUInt16BE(1, 4) // class IN
  head.writeUInt32BE(0, 6) // TTL 0: every lookup asks again
  head.writeUInt16BE(data.length, 10)
  return [Buffer.concat([head, data])]
}

function addressBytes(address: string): Buffer {
  const ip = parseIp(address)
  if (ip === null) throw new Error(`not an address: ${address}`)
  const width = ip.family === 4 ? 4 : 16
  const hex = ip.value.toString(16).padStart(width * 2, '0')
  return Buffer.from(hex, 'hex')
}
