import { connect } from 'node:net'

/**
 * Sends bytes exactly as given and returns everything the server wrote until it closed or went
 * quiet. Ordinary clients quietly fix malformed requests; this one does not.
 */
export function rawRequest(port: number, bytes: string | Buffer, quietMs = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let timer = setTimeout(() => socket.destroy(), quietMs * 10)
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      clearTimeout(timer)
      timer = setTimeout(() => socket.destroy(), quietMs)
    })
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(bytes)
  })
}

export function basicAuth(agent: string, token: string): string {
  return 'Basic ' + Buffer.from(`${agent}:${token}`).toString('base64')
}

export function statusOf(response: string): number {
  return Number(response.split(' ')[1] ?? 0)
}

export function headerOf(response: string, name: string): string | null {
  const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(response)
  return match?.[1]?.trim() ?? null
}
