import type { AddressInfo } from 'node:net'
import type { LoadedConfig } from '../config/types.js'
import type { Logger } from '../observability/logger.js'
import { AuditLog } from '../audit/audit-log.js'
import { ControlServer } from '../control-plane/control-server.js'
import { RelayMetrics } from '../control-plane/metrics.js'
import { TokenStore } from '../identity/token-store.js'
import { watchStateChanges } from '../store/state-signal.js'
import { Relay } from '../relay/relay.js'
import { RelayStateHolder, buildRelayState } from '../relay/relay-state.js'
import { loadOrCreateCa } from '../relay/tls/certificate-authority.js'
import { LeafCache } from '../relay/tls/leaf-cache.js'
import { UpstreamPool } from '../relay/upstream-pool.js'
import { loadMasterKey } from '../secrets/master-key.js'
import { SecretStore } from '../secrets/secret-store.js'
import type { Database } from '../store/database.js'
import { databasePath, openStateDatabase } from '../store/state-dir.js'
import { WorkerChainSink } from '../audit/worker-chain-sink.js'
import { SandboxApi, controlSocketPath } from '../control-plane/sandbox-api.js'
import { SandboxManager } from '../sandbox/sandbox-manager.js'

export interface ServiceAddresses {
  proxy: AddressInfo
  reverse: AddressInfo | null
  control: AddressInfo
}

export interface ServiceOptions {
  logger: Logger
  env?: Readonly<Record<string, string | undefined>>
}

/**
 * `tollgate serve`: the relay and the control plane over one state directory. Built from a
 * loaded config; `applyConfig` swaps in a reloaded one, `stop` shuts down gracefully and
 * flushes the audit trail.
 */
export class TollgateService {
  readonly addresses: ServiceAddresses
  #db: Database
  #audit: AuditLog
  #relay: Relay
  #control: ControlServer
  #sandboxes: SandboxManager
  #sandboxApi: SandboxApi
  #upstreams: UpstreamPool
  #state: RelayStateHolder
  #logger: Logger
  #stopping = false
  #stopWatching: () => void

  private constructor(parts: {
    db: Database
    audit: AuditLog
    relay: Relay
    control: ControlServer
    sandboxes: SandboxManager
    sandboxApi: SandboxApi
    upstreams: UpstreamPool
    state: RelayStateHolder
    logger: Logger
    addresses: ServiceAddresses
    stopWatching: () => void
  }) {
    this.#stopWatching = parts.stopWatching
    this.#db = parts.db
    this.#audit = parts.audit
    this.#relay = parts.relay
    this.#control = parts.control
    this.#sandboxes = parts.sandboxes
    this.#sandboxApi = parts.sandboxApi
    this.#upstreams = parts.upstreams
    this.#state = parts.state
    this.#logger = parts.logger
    this.addresses = parts.addresses
  }

  static async start(loaded: LoadedConfig, options: ServiceOptions): Promise<TollgateService> {
    const { server } = loaded.config
    const { logger } = options
    const db = openStateDatabase(server.stateDir)
    const secrets = new SecretStore(
      db,
      loadMasterKey({ stateDir: server.stateDir, env: options.env ?? process.env }),
      { trustCache: true },
    )
    const sink = new WorkerChainSink(databasePath(server.stateDir), {
      durable: server.audit.durability === 'disk',
    })
    const audit = new AuditLog(db, { logger, sink })
    const ca = await loadOrCreateCa(server.stateDir)
    const leaves = new LeafCache(ca)
    const upstreams = new UpstreamPool(server.timeouts, loaded.config.upstreams, {
      dns: server.dns ?? null,
    })
    const state = new RelayStateHolder(buildRelayState(loaded))
    const metrics = new RelayMetrics()

    // Cached: the relay's revocation poll forgets revoked tokens within REVOCATION_POLL_MS.
    const tokens = new TokenStore(db, { cache: true })
    const relay = new Relay({ state, tokens, secrets, audit, upstreams, metrics, logger }, leaves)
    let service: TollgateService | null = null
    const control = new ControlServer(
      metrics,
      {
        ready: () => service !== null && !service.#stopping,
        configVersion: () => state.current.version,
      },
      { logger, hosts: () => state.current.loaded.config.server.control.hosts },
    )

    const sandboxes = new SandboxManager({
      stateDir: server.stateDir,
      relay,
      audit,
      state,
      caPem: ca.certificatePem,
      logger,
      secretValues: () => secretValues(secrets),
    })
    const sandboxApi = new SandboxApi(sandboxes, logger)

    const listening = await relay.start(server.proxy, server.reverse)
    await sandboxApi.listen(controlSocketPath(server.stateDir))
    const stopWatching = watchStateChanges(server.stateDir, () => relay.checkStateChanges())
    const addresses = { ...listening, control: await control.listen(server.control) }
    service = new TollgateService({
      db,
      audit,
      relay,
      control,
      sandboxes,
      sandboxApi,
      upstreams,
      state,
      logger,
      addresses,
      stopWatching,
    })
    await service.#started(loaded)
    return service
  }

  get configVersion(): string {
    return this.#state.current.version
  }

  /** Applies a reloaded configuration and records that it did. */
  async applyConfig(loaded: LoadedConfig): Promise<void> {
    this.#relay.applyConfig(loaded)
    await this.#audit.record({
      type: 'config.loaded',
      policy_version: loaded.hash,
      detail: { path: loaded.path },
    })
    this.#logger.info({ event: 'config.loaded', policyVersion: loaded.hash }, 'config loaded')
  }

  /** Records a refused reload; the previous configuration keeps serving. */
  async rejectConfig(path: string, message: string): Promise<void> {
    this.#logger.error({ event: 'config.rejected', path, reason: message }, 'config rejected')
    await this.#audit.record({
      type: 'config.rejected',
      policy_version: this.configVersion,
      detail: { path, reason: message },
    })
  }

  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return
    this.#stopping = true
    this.#stopWatching()
    // No new sandboxes, then every box loses its listener (audited) before the relay stops.
    await this.#sandboxApi.close()
    await this.#sandboxes.stopAll('relay stopping')
    await this.#relay.stop(graceMs)
    await this.#audit.record({ type: 'relay.stopped', policy_version: this.configVersion })
    await this.#audit.close()
    await Promise.all([this.#control.close(), this.#upstreams.close()])
    this.#db.close()
  }

  async #started(loaded: LoadedConfig): Promise<void> {
    const { proxy, reverse, control } = this.addresses
    await this.#audit.record({
      type: 'relay.started',
      policy_version: loaded.hash,
      detail: {
        path: loaded.path,
        proxy: proxy.port,
        reverse: reverse?.port ?? null,
        control: control.port,
        audit_durability: loaded.config.server.audit.durability,
      },
    })
  }
}

/** Every secret's current value, for redacting sandbox command lines (never logged). */
function secretValues(secrets: SecretStore): string[] {
  const values: string[] = []
  for (const { name } of secrets.list()) {
    try {
      const value = secrets.get(name)
      if (value) values.push(value.reveal())
    } catch {
      // Sealed under another key: it cannot be injected either, so it cannot be leaked here.
    }
  }
  return values
}
