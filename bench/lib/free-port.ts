import { createServer } from 'node:net'

/**
 * Asks the kernel for a free loopback TCP port by binding port 0 and closing again.
 *
 * The port is free when this returns, not reserved: another process could take it before the
 * caller binds. On a bench machine that runs nothing else this race is acceptable; the caller
 * fails loudly (the server does not become ready) rather than measuring the wrong thing.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, resolve)
  })

  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))

  if (address === null || typeof address === 'string') {
    throw new Error('the kernel did not report a TCP port')
  }
  return address.port
}

/** Several distinct free ports, for a run that starts several servers. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>()

  while (ports.size < count) ports.add(await findFreePort(host))
  return [...ports]
}
