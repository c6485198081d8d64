import type { AuditDecision } from '../../audit/event.js'
import type { ErrorCode } from '../../errors/codes.js'
import { formatIPv4 } from '../destination/ip-address.js'
import type { RelayDeps } from '../exchange/exchange.js'
import { refusalOutcome } from '../exchange/outcome.js'
import type { RefusalSummary } from './unauthenticated-audit.js'

/**
 * Writes what a group of refusals left out of the trail: one `refusals.suppressed` audit event
 * and one warn line. Both are built from what the relay determined (the source's address
 * group, codes, counts, its own request ids and clock), never from what the refused client
 * sent, so a flood cannot smuggle text into the trail through its summary.
 */
export function recordRefusalSummary(
  deps: Pick<RelayDeps, 'audit' | 'logger' | 'state'>,
  summary: RefusalSummary,
): void {
  const client = summary.addressGroup === null ? null : describeAddressGroup(summary.addressGroup)
  const codes = Object.keys(summary.codes) as ErrorCode[]
  void deps.audit.recordQuietly({
    type: 'refusals.suppressed',
    client,
    decision: commonOutcome(codes),
    code: codes.length === 1 ? (codes[0] ?? null) : null,
    policy_version: deps.state.current.version,
    detail: {
      count: summary.count,
      codes: summary.codes,
      recorded: summary.recorded,
      overflow: summary.overflow,
      first_time: summary.firstTime.toISOString(),
      last_time: summary.lastTime.toISOString(),
      first_request_id: summary.firstRequestId,
      last_request_id: summary.lastRequestId,
    },
  })

  deps.logger.warn(
    {
      event: 'refusals.suppressed',
      client: client ?? undefined,
      overflow: summary.overflow,
      count: summary.count,
      codes: summary.codes,
      recorded: summary.recorded,
      firstRequestId: summary.firstRequestId,
      lastRequestId: summary.lastRequestId,
    },
    'refusals suppressed',
  )
}

/**
 * An address group (`addressGroup()`) as an operator reads it: the IPv4 address, or the IPv6
 * /64 as `prefix::/64`; null for a source with no IP address (a sandbox's UNIX socket).
 */
export function describeAddressGroup(group: string): string | null {
  const hex = group.slice(2)
  if (!/^[0-9a-f]{1,16}$/.test(hex)) return null
  const value = BigInt(`0x${hex}`)
  if (group.startsWith('4:')) return formatIPv4(value)
  if (!group.startsWith('6:')) return null

  const groups = [48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16))
  // The URL parser writes an IPv6 address in its canonical, zero-compressed form.
  const canonical = new URL(`http://[${groups.join(':')}::]/`).hostname.slice(1, -1)
  return `${canonical}/64`
}

/** The outcome the codes share (every group but the overflow has one code); else null. */
function commonOutcome(codes: readonly ErrorCode[]): AuditDecision | null {
  const outcomes = new Set(codes.map((code) => refusalOutcome(code)))
  const [only] = outcomes
  return outcomes.size === 1 ? (only ?? null) : null
}
