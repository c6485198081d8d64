import type { LeafCache } from '../tls/leaf-cache.js'
import type { ConnectionRegistry } from '../connection-registry.js'
import type { RelayDeps } from '../exchange/exchange.js'
import type { RequestIdGenerator } from '../exchange/request-id.js'
import type { RelayLimits } from '../limits/relay-limits.js'

/** What the listeners need beyond the request pipeline itself. */
export interface ListenerDeps extends RelayDeps {
  ids: RequestIdGenerator
  connections: ConnectionRegistry
  limits: RelayLimits
  leaves: LeafCache
}
