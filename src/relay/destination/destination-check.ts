import { TollgateError } from '../../errors/tollgate-error.js'
import type { AddressAllowance } from './allowance.js'
import { classifyAddress, type AddressKind } from './classify.js'
import { parseIp } from './ip-address.js'
import type { RelaySelf } from './relay-self.js'

/** What a refused destination was: for the operator's log and audit trail, never the agent. */
export interface RefusedDestination {
  address: string
  kind: AddressKind | 'relay-self' | 'unparsable'
}

/**
 * Checks every address a name resolved to and returns the one to dial: the first. One refused
 * address refuses them all: an answer mixing a public and a private address is what DNS
 * rebinding looks like, and dialling only the "good" one would still confirm the name works.
 * `viaLiteral` says the request named an IP address rather than a host name.
 *
 * @throws TollgateError TOLLGATE_DESTINATION_FORBIDDEN, with a RefusedDestination as cause.
 */
export function chooseAddress(
  addresses: readonly string[],
  allowance: AddressAllowance | null,
  viaLiteral: boolean,
  self: RelaySelf,
): string {
  for (const address of addresses) {
    const refused = refusal(address, allowance, viaLiteral, self)
    if (refused !== null) throw destinationForbidden(refused)
  }

  const first = addresses[0]
  if (first === undefined) throw Object.assign(new Error('no address'), { code: 'ENOTFOUND' })
  return first
}

function refusal(
  address: string,
  allowance: AddressAllowance | null,
  viaLiteral: boolean,
  self: RelaySelf,
): RefusedDestination | null {
  // A zone-scoped answer (fe80::1%eth0) is link-local by definition and cannot be parsed.
  const ip = parseIp(address)
  if (ip === null) return { address, kind: 'unparsable' }

  const cls = classifyAddress(ip)
  const isSelf = self.has(ip)
  if (cls.kind === 'public' && !isSelf) return null
  if (allowance?.allows(ip, cls, viaLiteral)) return null
  return { address, kind: cls.kind === 'public' ? 'relay-self' : cls.kind }
}

function destinationForbidden(refused: RefusedDestination): TollgateError {
  return new TollgateError('TOLLGATE_DESTINATION_FORBIDDEN', undefined, { cause: refused })
}

/** The refused address and its kind, when `error` is a destination refusal. */
export function refusedDestination(error: unknown): RefusedDestination | null {
  if (!(error instanceof TollgateError) || error.code !== 'TOLLGATE_DESTINATION_FORBIDDEN') {
    return null
  }
  const cause = error.cause as Partial<RefusedDestination> | undefined
  if (typeof cause?.address !== 'string' || typeof cause.kind !== 'string') return null
  return { address: cause.address, kind: cause.kind }
}
