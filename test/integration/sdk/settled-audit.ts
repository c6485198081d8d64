import type { AuditEvent } from '../../../src/audit/event.js'
import { waitFor, type Harness } from '../../helpers/tollgate-harness.js'

/**
 * The audit trail once `ready` holds. `request.completed` is written when the relay's response
 * closes, which can be a moment after the client has read the last byte, so tests wait for the
 * events they expect instead of reading the trail at once.
 */
export async function settledEvents(
  tg: Harness,
  what: string,
  ready: (events: AuditEvent[]) => boolean,
): Promise<AuditEvent[]> {
  let events: AuditEvent[] = []
  await waitFor(() => ready((events = tg.auditEvents())), what)
  return events
}

/** How many `request.completed` events the rule `policy/rule` has. */
export function completedBy(events: AuditEvent[], rule: string): AuditEvent[] {
  return events.filter((e) => e.type === 'request.completed' && e.rule === rule)
}
