import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditLog } from '../audit/audit-log.js'
import { TollgateError } from '../errors/tollgate-error.js'
import type { Logger } from '../observability/logger.js'
import type { RelayStateHolder } from '../relay/relay-state.js'
import type { SandboxBinding } from '../relay/listeners/sandbox-listener.js'
import type { SandboxLimits } from './sandbox-limits.js'
import { redactCommand, redactValues } from './command-redaction.js'
import { clearStoppedSandboxes } from './sandbox-dirs.js'

/** What `tollgate run` asks for. */
export interface SandboxRequest {
  agent: string
  command: string[]
  limits: SandboxLimits
  /** Whether the box runs under the seccomp filter (`--no-seccomp` turns it off). */
  seccomp: boolean
  /** Policies narrowing the agent's for this sandbox (`--policy`); absent or empty: none. */
  overlay?: string[]
}

/** How the box ended, as `tollgate run` saw it; recorded on `sandbox.stopped`. */
export interface BoxEnd {
  /** The agent's exit status (124 when the wall time ran out, 128 + n for signal n). */
  exitStatus: number
  /** Processes the cgroup v2 memory limit killed; null where limits are rlimits. */
  oomKills: number | null
}

/** A registered sandbox, as the control API lists it; its command is redacted. */
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
  /**
   * The values of the secrets in the store, read when a sandbox starts, so a command line
   * that carries one (pasted by hand, or in a spelling no pattern knows) is still redacted.
   */
  secretValues?: () => readonly string[]
}

/**
 * The running relay's sandboxes. Each has a directory `<stateDir>/sandboxes/<id>` (0700)
 * holding its relay socket, a copy of the CA and the output log `tollgate run` writes;
 * registering opens the listener, stopping closes it (cutting its connections) and removes all
 * but the output log, which `tollgate sandbox logs` reads afterwards. Start and stop are
 * audited.
 */
export class SandboxManager {
  #parts: SandboxManagerParts
  #sandboxes = new Map<string, SandboxRecord>()

  constructor(parts: SandboxManagerParts) {
    this.#parts = parts
    // Sandboxes of a relay that died are not coming back: their sockets must not linger.
    mkdirSync(this.#root, { recursive: true, mode: 0o700 })
    clearStoppedSandboxes(this.#root, () => false)
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
    this.#requireOverlayPolicies(request.overlay ?? [])
    const id = `sbx_${randomBytes(8).toString('hex')}`
    const dir = join(this.#root, id)
    mkdirSync(dir, { mode: 0o700 })
    const caFile = join(dir, 'ca.pem')
    // A bundle file ends with a newline: tools that append to or concatenate bundles expect it.
    const pem = this.#parts.caPem.endsWith('\n') ? this.#parts.caPem : `${this.#parts.caPem}\n`
    writeFileSync(caFile, pem, { mode: 0o644 })

    const record: SandboxRecord = {
      ...request,
      // The record is what `sandbox list` shows and the audit trail keeps: no secrets in it.
      command: redactValues(redactCommand(request.command), this.#secretValues()),
      ...identity,
      id,
      socket: join(dir, 'relay.sock'),
      caFile,
      startedAt: new Date().toISOString(),
    }
    this.#sandboxes.set(id, record)
    try {
      const binding = { id, agent: identity.agent, overlay: request.overlay ?? [] }
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

  // An overlay naming no policy would deny everything the box does; refuse it up front instead.
  #requireOverlayPolicies(names: readonly string[]): void {
    const { engine } = this.#parts.state.current
    const unknown = names.find((name) => !engine.hasPolicy(name))
    if (unknown === undefined) return
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `no policy named ${unknown} in config`)
  }

  /** Unregisters a sandbox, cuts its connections and audits the stop; false if unknown. */
  async stop(id: string, reason: string, ended: BoxEnd | null = null): Promise<boolean> {
    const record = this.#sandboxes.get(id)
    if (!record) return false
    await this.#discard(record)
    await this.#record('sandbox.stopped', record, reason, ended)
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
    clearStoppedSandboxes(this.#root, (id) => this.#sandboxes.has(id))
  }

  #secretValues(): readonly string[] {
    try {
      return this.#parts.secretValues?.() ?? []
    } catch (error) {
      // A store that cannot be read leaves the pattern-based redaction; the start goes on.
      this.#parts.logger.warn({ err: error }, 'secret values unavailable for command redaction')
      return []
    }
  }

  #record(
    type: 'sandbox.started' | 'sandbox.stopped',
    record: SandboxRecord,
    reason?: string,
    ended: BoxEnd | null = null,
  ) {
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
        seccomp: record.seccomp,
        overlay: record.overlay ?? [],
        ...(reason === undefined ? {} : { reason }),
        ...(ended === null ? {} : { exit_status: ended.exitStatus, oom_kills: ended.oomKills }),
      },
    })
  }
}
