import type { UnauthenticatedAuditConfig } from '../../config/types.js'
import type { ErrorCode } from '../../errors/codes.js'
import { refusalOutcome } from '../exchange/outcome.js'
import { addressGroup } from './address-group.js'

/**
 * Groups counted in one interval before the rest share one overflow group: an IPv6 client with
 * many /64s, or many sources at once, must not grow this without bound.
 */
export const MAX_REFUSAL_GROUPS = 10_000

/**
 * How many sources' shares may be recorded one by one in one interval, all sources together.
 * A local process can speak from any of 127.0.0.0/8's sixteen million addresses, so a share
 * per source alone would bound nothing; past this, every source's refusals go into summaries.
 */
export const TOTAL_SHARES = 10

/** The group of refusals from sockets without an address (a sandbox's UNIX socket). */
const NO_ADDRESS = 'unix'

/** A refusal as the bound sees it: only what the relay itself determined, nothing sent. */
export interface Refusal {
  requestId: string
  code: ErrorCode
  /** The agent the refusal names (a mismatched token's own agent), or null for none. */
  agent: string | null
  /** The socket's remote address; absent for a UNIX socket or a socket already gone. */
  client: string | null | undefined
}

/** What one group left out of the trail in an interval, written when the interval ends. */
export interface RefusalSummary {
  /** `addressGroup()` of the source; null for the overflow group. */
  addressGroup: string | null
  /** Whether this is the group shared by every source past `MAX_REFUSAL_GROUPS`. */
  overflow: boolean
  /** Refusals left out (not written one by one), in all and by code. */
  count: number
  codes: Partial<Record<ErrorCode, number>>
  /** Refusals of the group written one by one in the same interval. */
  recorded: number
  firstTime: Date
  lastTime: Date
  firstRequestId: string
  lastRequestId: string
}

export interface UnauthenticatedAuditOptions {
  /** Writes a summary: its audit event and log line. Must not throw. */
  report: (summary: RefusalSummary) => void
  /** Told of every refusal left out, for the metrics. */
  suppressed?: (code: ErrorCode) => void
  /** Wall clock in milliseconds, for the summaries' times; tests pass their own. */
  now?: () => number
  maxGroups?: number
}

interface Group {
  key: string | null
  recorded: number
  left: Omit<RefusalSummary, 'addressGroup' | 'overflow' | 'recorded'> | null
}

/**
 * The bound on audit events and decision lines for refusals that name no agent (no token, an
 * invalid one, a request the parser refused, a CONNECT refused before identification). Each
 * is cheap for whoever sends it and costs the relay an audit row (an fsync by default) and a
 * log line, so a local process reconnecting in a loop could grow the trail and the disk as fast
 * as the audit writer goes, and queue its events ahead of real agents' decisions.
 *
 * Per source address group and code, the first `events` refusals of an interval are recorded
 * as always; the rest are left out and counted, and when the interval ends one summary per
 * group says how many, from which request id to which. The refused client gets its answer
 * either way. Refusals that name an agent, and the relay's own faults, are never left out.
 *
 * One interval runs for all groups at once: it starts with the first refusal counted and ends
 * `intervalMs` later, on a timer that does not keep the process alive.
 */
export class UnauthenticatedAudit {
  #settings: () => UnauthenticatedAuditConfig | null
  #report: (summary: RefusalSummary) => void
  #suppressed: (code: ErrorCode) => void
  #now: () => number
  #maxGroups: number
  #groups = new Map<string, Group>()
  #overflow: Group | null = null
  /** Refusals recorded one by one in this interval, all groups together. */
  #recorded = 0
  #timer: NodeJS.Timeout | null = null
  #closed = false

  /** @param settings read on every refusal, so a reload applies at once. */
  constructor(
    settings: () => UnauthenticatedAuditConfig | null,
    options: UnauthenticatedAuditOptions,
  ) {
    this.#settings = settings
    this.#report = options.report
    this.#suppressed = options.suppressed ?? (() => undefined)
    this.#now = options.now ?? Date.now
    this.#maxGroups = options.maxGroups ?? MAX_REFUSAL_GROUPS
  }

  /**
   * Counts a refusal. True: record it one by one (audit event and decision line) as ever;
   * false: it is left out and will be in its group's summary.
   */
  admit(refusal: Refusal): boolean {
    const settings = this.#settings()
    if (settings === null || this.#closed || !isBounded(refusal)) return true

    const group = this.#groupOf(refusal, settings.intervalMs)
    if (group.recorded < settings.events && this.#recorded < settings.events * TOTAL_SHARES) {
      group.recorded++
      this.#recorded++
      return true
    }
    this.#leaveOut(group, refusal)
    return false
  }

  /** Writes the summary of every group that left refusals out, and starts a new interval. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const groups = [...this.#groups.values()]
    if (this.#overflow !== null) groups.push(this.#overflow)
    this.#groups.clear()
    this.#overflow = null
    this.#recorded = 0

    for (const { key, recorded, left } of groups) {
      if (left === null) continue
      this.#report({ ...left, addressGroup: key, overflow: key === null, recorded })
    }
  }

  /**
   * Writes what is pending, for a graceful shutdown. Refusals counted after this (connections
   * cut on the way down) are recorded one by one: nothing is left to write their summary.
   */
  close(): void {
    this.#closed = true
    this.flush()
  }

  /** Groups counted in the current interval, the overflow group included. */
  get size(): number {
    return this.#groups.size + (this.#overflow === null ? 0 : 1)
  }

  #groupOf(refusal: Refusal, intervalMs: number): Group {
    const source = refusal.client ? addressGroup(refusal.client) : NO_ADDRESS
    const key = `${source} ${refusal.code}`
    const known = this.#groups.get(key)
    if (known !== undefined) return known

    this.#armTimer(intervalMs)
    if (this.#groups.size >= this.#maxGroups) {
      this.#overflow ??= { key: null, recorded: 0, left: null }
      return this.#overflow
    }
    const group: Group = { key: source, recorded: 0, left: null }
    this.#groups.set(key, group)
    return group
  }

  #leaveOut(group: Group, refusal: Refusal): void {
    const { requestId, code } = refusal
    const time = new Date(this.#now())
    group.left ??= {
      count: 0,
      codes: {},
      firstTime: time,
      lastTime: time,
      firstRequestId: requestId,
      lastRequestId: requestId,
    }
    const left = group.left
    left.count++
    left.codes[code] = (left.codes[code] ?? 0) + 1
    left.lastTime = time
    left.lastRequestId = requestId
    this.#suppressed(code)
  }

  #armTimer(intervalMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => this.flush(), intervalMs)
    // A pending summary must not hold a stopping process open; shutdown flushes it instead.
    this.#timer.unref()
  }
}

/**
 * Whether a refusal may be left out: it names no agent, and it is a refusal the relay chose
 * (a code with an outcome), not a fault of its own, which is rare and worth every event.
 */
function isBounded(refusal: Refusal): boolean {
  return refusal.agent === null && refusalOutcome(refusal.code) !== null
}
