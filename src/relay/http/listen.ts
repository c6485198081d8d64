import { chmodSync, rmSync } from 'node:fs'
import type { AddressInfo, Server } from 'node:net'
import type { ListenConfig } from '../../config/types.js'

/**
 * Listens on a unix socket readable and writable by the owner only: the file's permissions are
 * the authentication (the control API, a sandbox's way to the relay). A stale socket file left
 * by a crash is replaced.
 */
export function listenOnPrivateSocket(server: Server, path: string): Promise<void> {
  rmSync(path, { force: true })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      chmodSync(path, 0o600)
      resolve()
    })
  })
}

/** Listens on a host and port; resolves with the address actually bound (port 0 picks one). */
export function listenOnAddress(server: Server, at: ListenConfig): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}
