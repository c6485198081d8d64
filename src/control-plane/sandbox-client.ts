import { request } from 'node:http'
import { existsSync } from 'node:fs'
import { TollgateError } from '../errors/tollgate-error.js'
import type { ErrorCode } from '../errors/codes.js'
import { ERRORS } from '../errors/codes.js'
import type { SandboxLimits } from '../sandbox/sandbox-limits.js'
import type { BoxEnd } from '../sandbox/sandbox-manager.js'
import { controlSocketPath } from './sandbox-api.js'

/** A sandbox as the control API returns it. */
export interface SandboxInfo {
  id: string
  agent: string
  owner: string
  team: string
  command: string[]
  limits: SandboxLimits
  /** Whether `tollgate run` said it starts the box with the seccomp filter. */
  seccomp: boolean
  /** Policies narrowing the agent's for this sandbox (`--policy`). */
  overlay: string[]
  socket: string
  ca_file: string
  started_at: string
}

/** Talks to a running relay's control socket (what `tollgate run` and `sandbox` use). */
export class SandboxClient {
  #socketPath: string

  constructor(stateDir: string) {
    this.#socketPath = controlSocketPath(stateDir)
  }

  async start(
    agent: string,
    command: string[],
    limits: SandboxLimits,
    isolation: { seccomp: boolean },
    overlay: readonly string[] = [],
  ): Promise<SandboxInfo> {
    const body = { agent, command, limits, seccomp: isolation.seccomp, overlay }
    return (await this.#call('POST', '/sandboxes', body)) as SandboxInfo
  }

  async list(): Promise<SandboxInfo[]> {
    const body = (await this.#call('GET', '/sandboxes')) as { sandboxes: SandboxInfo[] }
    return body.sandboxes
  }

  /** Unregisters the sandbox; `ended` (from `tollgate run`) goes on the `sandbox.stopped` event. */
  async stop(id: string, ended: BoxEnd | null = null): Promise<void> {
    const body =
      ended === null ? undefined : { exit_status: ended.exitStatus, oom_kills: ended.oomKills }
    await this.#call('DELETE', `/sandboxes/${encodeURIComponent(id)}`, body)
  }

  #call(method: string, path: string, body?: unknown): Promise<unknown> {
    if (!existsSync(this.#socketPath)) {
      throw new TollgateError(
        'TOLLGATE_NOT_FOUND',
        `no running relay (no ${this.#socketPath}); start \`tollgate serve\` first`,
      )
    }
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#socketPath, method, path }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          try {
            resolve(parseReply(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')))
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)))
          }
        })
      })
      req.on('error', reject)
      if (payload !== undefined) {
        req.setHeader('content-type', 'application/json')
        // Node frames a DELETE body neither by length nor chunked unless told: say its length.
        req.setHeader('content-length', Buffer.byteLength(payload))
      }
      req.end(payload)
    })
  }
}

function parseReply(status: number, text: string): unknown {
  const body = JSON.parse(text) as { error?: { code?: string; message?: string } }
  if (status < 400) return body
  const code = body.error?.code
  const known =
    typeof code === 'string' && code in ERRORS ? (code as ErrorCode) : 'TOLLGATE_INTERNAL'
  throw new TollgateError(known, body.error?.message ?? `control API answered ${status}`)
}
