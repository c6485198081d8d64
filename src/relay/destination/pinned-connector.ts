import { isIP } from 'node:net'
import { buildConnector } from 'undici'
import type { AddressAllowance } from './allowance.js'
import { chooseAddress } from './destination-check.js'
import type { RelaySelf } from './relay-self.js'
import type { HostResolver } from './resolver.js'

export interface PinnedConnectorOptions {
  /** TCP/TLS options (CA, timeout…) for the connection itself. */
  connect: buildConnector.BuildOptions
  allowance: AddressAllowance | null
  /** Read at every connection, so a reloaded DNS setting applies to the next one. */
  resolver: () => HostResolver
  self: RelaySelf
  /** Bounds name resolution, which the system resolver does not bound itself. */
  timeoutMs: number
}

/**
 * An undici connector that resolves the upstream's name once per connection, checks every
 * answer, and dials exactly the address it checked. Node's own connect would resolve again and
 * fall back to the next answer on failure; here it only ever sees an IP literal. TLS is still
 * verified against the name: undici derives the servername from the request's host, not from
 * the dialled address.
 */
export function pinnedConnector(options: PinnedConnectorOptions): buildConnector.connector {
  const dial = buildConnector(options.connect)

  return (target, callback) => {
    const name = target.hostname
    const viaLiteral = isIP(name) !== 0
    const answers = viaLiteral ? Promise.resolve([name]) : resolveWithin(options, name)

    answers
      .then((addresses) => chooseAddress(addresses, options.allowance, viaLiteral, options.self))
      .then(
        (address) => dial({ ...target, hostname: address }, callback),
        (err: Error) => callback(err, null),
      )
      // dial reports its own failures through the callback; this only catches a throw.
      .catch((err: Error) => callback(err, null))
  }
}

function resolveWithin(options: PinnedConnectorOptions, name: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(resolveTimeout()), options.timeoutMs)
  })
  const answers = options.resolver().resolve(name)
  return Promise.race([answers, timeout]).finally(() => clearTimeout(timer))
}

// Named like undici's own connect timeout, so the response path maps it the same way.
function resolveTimeout(): Error {
  const error = new Error('name resolution timed out')
  return Object.assign(error, { code: 'UND_ERR_CONNECT_TIMEOUT' })
}
