import { listenOnPrivateSocket } from '../relay/http/listen.js'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { TollgateError, isTollgateError } from '../errors/tollgate-error.js'
import type { Logger } from '../observability/logger.js'
import { isSandboxLimits } from '../sandbox/sandbox-limits.js'
import type {
  BoxEnd,
  SandboxManager,
  SandboxRecord,
  SandboxRequest,
} from '../sandbox/sandbox-manager.js'

/** The control socket inside the state directory. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, 'control.sock')
}

/** The largest request body the control API reads (a command line and limits). */
const MAX_BODY_BYTES = 64 * 1024

/**
 * The local control API of a running relay, on a UNIX socket (0600 in the 0700 state
 * directory): file permissions are the authentication, so only the relay's own user — the
 * one who may read its state anyway — can register sandboxes.
 *
 * - `POST /sandboxes` `{ agent, command, limits, seccomp, overlay? }` → 201 the sandbox record
 * - `GET /sandboxes` → 200 `{ sandboxes: [...] }`
 * - `DELETE /sandboxes/<id>` → 200, or 404 when it is not registered
 */
export class SandboxApi {
  #server: Server
  #sandboxes: SandboxManager
  #logger: Logger

  constructor(sandboxes: SandboxManager, logger: Logger) {
    this.#sandboxes = sandboxes
    this.#logger = logger
    this.#server = createServer((req, res) => void this.#handle(req, res))
  }

  listen(path: string): Promise<void> {
    return listenOnPrivateSocket(this.#server, path)
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const { status, body } = await this.#route(req)
      send(res, status, body)
    } catch (error) {
      const failure = isTollgateError(error) ? error : new TollgateError('TOLLGATE_INTERNAL')
      if (!isTollgateError(error)) this.#logger.error({ err: error }, 'control request failed')
      send(res, failure.status, { error: { code: failure.code, message: failure.publicMessage } })
    }
  }

  async #route(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = (req.url ?? '').split('?')[0] ?? ''
    if (path === '/sandboxes' && req.method === 'GET') {
      return { status: 200, body: { sandboxes: this.#sandboxes.list().map(toJson) } }
    }
    if (path === '/sandboxes' && req.method === 'POST') {
      const request = parseRequest(await readJson(req))
      return { status: 201, body: toJson(await this.#sandboxes.start(request)) }
    }
    const match = /^\/sandboxes\/(sbx_[0-9a-f]+)$/.exec(path)
    if (match?.[1] && req.method === 'DELETE') {
      const ended = parseBoxEnd(await readOptionalJson(req))
      if (!(await this.#sandboxes.stop(match[1], 'stopped', ended))) {
        throw new TollgateError('TOLLGATE_NOT_FOUND', `no sandbox ${match[1]}`)
      }
      return { status: 200, body: { id: match[1], stopped: true } }
    }
    throw new TollgateError('TOLLGATE_NOT_FOUND', 'no such control endpoint')
  }
}

/** The record as the control API and `tollgate sandbox list --json` show it (snake_case). */
export function toJson(record: SandboxRecord): Record<string, unknown> {
  return {
    id: record.id,
    agent: record.agent,
    owner: record.owner,
    team: record.team,
    command: record.command,
    limits: record.limits,
    seccomp: record.seccomp,
    overlay: record.overlay ?? [],
    socket: record.socket,
    ca_file: record.caFile,
    started_at: record.startedAt,
  }
}

function parseRequest(body: unknown): SandboxRequest {
  const { agent, command, limits, seccomp, overlay } = (body ?? {}) as Record<string, unknown>
  const isCommand =
    Array.isArray(command) &&
    command.length > 0 &&
    command.every((part) => typeof part === 'string')
  if (typeof agent !== 'string' || !isCommand || !isSandboxLimits(limits)) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      'expected { agent: string, command: string[], limits: {...} }',
    )
  }
  // A client that does not say its box has the seccomp filter is recorded as without it.
  return { agent, command, limits, seccomp: seccomp === true, overlay: parseOverlay(overlay) }
}

/**
 * How the box ended, from `tollgate run`; absent when the sandbox is stopped by hand
 * (`tollgate sandbox stop`), while its box may still be running.
 */
function parseBoxEnd(body: unknown): BoxEnd | null {
  if (body === null) return null
  const { exit_status: exitStatus, oom_kills: oomKills } = body as Record<string, unknown>
  const isStatus = Number.isInteger(exitStatus) && (exitStatus as number) >= 0
  const isKills = oomKills === null || (Number.isInteger(oomKills) && (oomKills as number) >= 0)
  if (isStatus && isKills) {
    return { exitStatus: exitStatus as number, oomKills: oomKills as number | null }
  }
  throw new TollgateError(
    'TOLLGATE_INVALID_ARGUMENT',
    'expected { exit_status: integer >= 0, oom_kills: integer >= 0 | null }',
  )
}

/** Policy names narrowing the agent's; the manager checks that each one exists. */
function parseOverlay(overlay: unknown): string[] {
  if (overlay === undefined) return []
  const isNames =
    Array.isArray(overlay) && overlay.every((name) => typeof name === 'string' && name !== '')
  if (isNames) return [...new Set(overlay as string[])]
  throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'overlay must be a list of policy names')
}

/** The JSON body, or null when the request has none. */
async function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  const hasBody =
    req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'
  if (!hasBody && req.headers['transfer-encoding'] === undefined) return null
  return readJson(req)
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES)
      throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'body too large')
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'the body is not JSON')
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}
