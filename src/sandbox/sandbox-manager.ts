import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditLog } from '../audit/audit-log.js'
import { TollgateError } from '../errors/tollgate-error.js'
import type { Logger } from '../observability/logger.js'
import type { RelayStateHolder } from '../relay/relay-state.js'
import type { SandboxBinding } from '../relay/listeners/sandbox-listener.js'
import type { SandboxLimits } from './sandbox-limits.js'

/** What `tollgate run` asks for. */
export interface SandboxRequest {
  agent: string
  command: string[]
  limits: SandboxLimits
}

/** A registered sandbox, as the control API lists it. */
export interface SandboxRecord extends SandboxRequest {
  id: string
  owner: string
  team: string
  /** Host path of the sandbox's relay socket, bind-mounted into the box. */
  socket: string
  /** Host path of the relay CA copy bind-mounted into the box. */
  caFile: string
  startedAt: string
}

/** The part of the relay a sandbox needs: its private listener. */
export interface SandboxHost {
  openSandbox(binding: SandboxBinding, path: string, isRegistered: () => boolean): Promise<void>
  closeSandbox(id: string): Promise<boolean>
}

export interface SandboxManagerParts {
  stateDir: string
  relay: SandboxHost
  audit: AuditLog
  state: RelayStateHolder
  caPem: string
  logger: Logger
}

/**
 * The running relay's sandboxes. Each has a directory `<stateDir>/sandboxes/<id>` (0700)
 * holding its relay socket and a copy of the CA; registering opens the listener, stopping
 * closes it (cutting its connections) and removes the directory. Start and stop are audited.
 */
export class SandboxManager {
  #parts: SandboxManagerParts
  #sandboxes = new Map<string, SandboxRecord>()

  constructor(parts: SandboxManagerParts) {
    this.#parts = parts
    // Sandboxes of a relay that died are not coming back: their sockets must not linger.
    rmSync(this.#root, { recursive: true, force: true })
    mkdirSync(this.#root, { recursive: true, mode: 0o700 })
  }

  get #root(): string {
    return join(this.#parts.stateDir, 'sandboxes')
  }

  list(): SandboxRecord[] {
    return [...this.#sandboxes.values()]
  }

  get(id: string): SandboxRecord | null {
    return this.#sandboxes.get(id) ?? null
  }

  /** Registers a sandbox for an agent in the current config and opens its listener. */
  async start(request: SandboxRequest): Promise<SandboxRecord> {
    const identity = this.#parts.state.current.directory.resolveAgent(request.agent)
    if (!identity) {
      throw new TollgateError('TOLLGATE_NOT_FOUND', `no agent named ${request.agent} in config`)
    }
    const id = `sbx_${randomBytes(8).toString('hex')}`
    const dir = join(this.#root, id)
    mkdirSync(dir, { mode: 0o700 })
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, this.#parts.caPem, { mode: 0o644 })

    const record: SandboxRecord = {
      ...request,
      ...identity,
      id,
      socket: join(dir, 'relay.sock'),
      caFile,
      startedAt: new Date().toISOString(),
    }
    this.#sandboxes.set(id, record)
    try {
      const binding = { id, agent: identity.agent }
      await this.#parts.relay.openSandbox(binding, record.socket, () => this.#sandboxes.has(id))
      await this.#record('sandbox.started', record)
    } catch (error) {
      await this.#discard(record)
      throw error
    }
    this.#parts.logger.info(
      { event: 'sandbox.started', sandboxId: id, agent: identity.agent },
      'sandbox started',
    )
    return record
  }

  /** Unregisters a sandbox, cuts its connections and audits the stop; false if unknown. */
  async stop(id: string, reason: string): Promise<boolean> {
    const record = this.#sandboxes.get(id)
    if (!record) return false
    await this.#discard(record)
    await this.#record('sandbox.stopped', record, reason)
    this.#parts.logger.info({ event: 'sandbox.stopped', sandboxId: id, reason }, 'sandbox stopped')
    return true
  }

  async stopAll(reason: string): Promise<void> {
    for (const id of [...this.#sandboxes.keys()]) await this.stop(id, reason)
  }

  async #discard(record: SandboxRecord): Promise<void> {
    // Unregister first: a request racing the close is refused by the per-request check.
    this.#sandboxes.delete(record.id)
    await this.#parts.relay.closeSandbox(record.id)
    rmSync(join(this.#root, record.id), { recursive: true, force: true })
  }

  #record(type: 'sandbox.started' | 'sandbox.stopped', record: SandboxRecord, reason?: string) {
    return this.#parts.audit.record({
      type,
      agent: record.agent,
      owner: record.owner,
      team: record.team,
      sandbox_id: record.id,
      policy_version: this.#parts.state.current.version,
      detail: {
        command: record.command,
        limits: record.limits,
        ...(reason === undefined ? {} : { reason }),
      },
    })
  }
}
