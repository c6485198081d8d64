import { chmodSync, rmSync } from 'node:fs'
import type { Server } from 'node:net'

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
