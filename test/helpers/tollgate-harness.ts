import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigFile } from '../../src/config/load.js'
import { createLogger } from '../../src/observability/logger.js'
import { TollgateService } from '../../src/service/tollgate-service.js'
import { TokenStore } from '../../src/identity/token-store.js'
import { loadMasterKey } from '../../src/secrets/master-key.js'
import { SecretStore } from '../../src/secrets/secret-store.js'
import { SecretValue } from '../../src/secrets/secret-value.js'
import { openStateDatabase } from '../../src/store/state-dir.js'
import type { Database } from '../../src/store/database.js'
import { exportAudit } from '../../src/audit/query.js'
import type { AuditEvent } from '../../src/audit/event.js'

export interface Harness {
  dir: string
  configPath: string
  stateDir: string
  service: TollgateService
  proxyPort: number
  reversePort: number
  controlPort: number
  caPem: string
  caFile: string
  /** Every log line the relay wrote, as JSON text. */
  logs: string[]
  db: Database
  issueToken(agent: string, ttlMs?: number): { id: string; token: string }
  setSecret(name: string, value: string): void
  proxyUrl(agent: string, token: string): string
  auditLines(): string[]
  auditEvents(): AuditEvent[]
  stop(): Promise<void>
}

// `serverExtra` may bring its own `timeouts:` line, which then replaces this one.
const TIMEOUTS = '  timeouts: { connect: 5s, headers: 10s, body: 10s, idle: 30s }\n'

const SERVER = (stateDir: string, serverExtra: string) => `
version: 1
server:
  stateDir: ${JSON.stringify(stateDir)}
  proxy: { listen: 127.0.0.1:0 }
  reverse: { listen: 127.0.0.1:0 }
  control: { listen: 127.0.0.1:0 }
${/^ {2}timeouts:/m.test(serverExtra) ? '' : TIMEOUTS}  shutdownGrace: 2s
  logLevel: debug
${serverExtra}`

/**
 * Starts a real Tollgate service in this process on ephemeral loopback ports, with its own
 * temporary state directory and the given config body (everything after `server:`).
 */
export async function startTollgate(
  body: string,
  files: Record<string, string> = {},
  /** More keys of the `server:` section, indented by two spaces (e.g. `  dns: {...}`). */
  serverExtra = '',
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-it-'))
  const stateDir = join(dir, 'state')
  const configPath = join(dir, 'tollgate.yaml')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  writeFileSync(configPath, SERVER(stateDir, serverExtra) + body)

  const logs: string[] = []
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => logs.push(line) },
  })
  const service = await TollgateService.start(loadConfigFile(configPath), { logger, env: {} })
  const db = openStateDatabase(stateDir)
  const tokens = new TokenStore(db)
  const secrets = new SecretStore(db, loadMasterKey({ stateDir, env: {} }))
  const caFile = join(stateDir, 'ca', 'ca.crt.pem')
  const { readFileSync } = await import('node:fs')

  return {
    dir,
    configPath,
    stateDir,
    service,
    proxyPort: service.addresses.proxy.port,
    reversePort: service.addresses.reverse?.port ?? 0,
    controlPort: service.addresses.control.port,
    caPem: readFileSync(caFile, 'utf8'),
    caFile,
    logs,
    db,
    issueToken: (agent, ttlMs = 3_600_000) => {
      const issued = tokens.issue(agent, ttlMs)
      return { id: issued.record.id, token: issued.token }
    },
    setSecret: (name, value) => void secrets.set(name, new SecretValue(value)),
    proxyUrl: (agent, token) =>
      `http://${agent}:${token}@127.0.0.1:${service.addresses.proxy.port}`,
    auditLines: () => {
      const lines: string[] = []
      exportAudit(db, {}, (line) => lines.push(line))
      return lines
    },
    auditEvents: () => {
      const lines: string[] = []
      exportAudit(db, {}, (line) => lines.push(line))
      return lines.map((line) => JSON.parse(line) as AuditEvent)
    },
    stop: async () => {
      await service.stop(1000)
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until `check` is true, polling; fails after `timeoutMs` with `what` in the message. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
