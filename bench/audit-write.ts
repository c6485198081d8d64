// Measures the audit writer: events/s, time-to-durable (record() called → promise resolved) and
// CPU per event, on a real file with synchronous=FULL. Each scenario runs for a fixed time, so the
// whole run stays under 15 s. Run: node dist/bench/audit-write.js [directory-for-the-db]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { AuditLog, recordSync } from '../src/audit/audit-log.js'
import type { AuditEventInput } from '../src/audit/event.js'
import { verifyAudit } from '../src/audit/verify.js'
import { openDatabase, type Database } from '../src/store/database.js'

interface Result {
  scenario: string
  events: number
  seconds: number
  commits: number
  latencies: number[]
  cpuMicros: number
}

const SECONDS_PER_SCENARIO = 2
const CONCURRENCY = [1, 16, 64, 256]

const event = (i: number): AuditEventInput => ({
  type: 'request.decided',
  request_id: `req-${i}`,
  agent: 'ci-bot',
  owner: 'alice@example.com',
  team: 'platform',
  token_id: 'tok_2f9c',
  client: '127.0.0.1',
  method: 'GET',
  scheme: 'https',
  host: 'api.github.com',
  port: 443,
  path: '/repos/acme/widgets/pulls',
  decision: 'allow',
  rule: 'github/read',
  policy_version: 'sha256:9b1c',
  credentials: ['github'],
})

// One closed loop per simulated in-flight request: record, wait until durable, go again.
async function runLog(db: Database, concurrency: number): Promise<Result> {
  let commits = 0
  const log = new AuditLog(db, { now: () => (commits++, new Date()) })
  const latencies: number[] = []
  const deadline = performance.now() + SECONDS_PER_SCENARIO * 1000
  const cpu = process.cpuUsage()
  const started = performance.now()

  const client = async (id: number): Promise<void> => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now()
      await log.record(event(id * 1e9 + i))
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)))

  const seconds = (performance.now() - started) / 1000
  const cpuMicros = cpuTotal(process.cpuUsage(cpu))
  return {
    scenario: `AuditLog, ${concurrency} in flight`,
    events: latencies.length,
    seconds,
    commits,
    latencies,
    cpuMicros,
  }
}

// The CLI path and the baseline group commit is measured against: one transaction per event.
function runSync(db: Database): Result {
  const latencies: number[] = []
  const deadline = performance.now() + 1000
  const cpu = process.cpuUsage()
  const started = performance.now()

  for (let i = 0; performance.now() < deadline; i++) {
    const t0 = performance.now()
    recordSync(db, event(i))
    latencies.push(performance.now() - t0)
  }

  const seconds = (performance.now() - started) / 1000
  const n = latencies.length
  return {
    scenario: 'recordSync, 1 per commit',
    events: n,
    seconds,
    commits: n,
    latencies,
    cpuMicros: cpuTotal(process.cpuUsage(cpu)),
  }
}

function cpuTotal(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

function row(result: Result): string[] {
  const sorted = Float64Array.from(result.latencies).sort()
  const values = Array.from(sorted)
  return [
    result.scenario,
    Math.round(result.events / result.seconds).toLocaleString('en'),
    percentile(values, 0.5).toFixed(2),
    percentile(values, 0.99).toFixed(2),
    (result.events / Math.max(1, result.commits)).toFixed(1),
    (result.cpuMicros / Math.max(1, result.events)).toFixed(1),
  ]
}

function printTable(results: Result[]): void {
  const header = ['scenario', 'events/s', 'p50 ms', 'p99 ms', 'events/commit', 'CPU µs/event']
  const rows = [header, ...results.map(row)]
  const widths = header.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)))
  for (const r of rows) {
    console.log(
      r
        .map((cell, col) =>
          col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0),
        )
        .join('  '),
    )
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'tollgate-audit-bench-'))
  const db = openDatabase(join(dir, 'state.db'))
  try {
    const results = [runSync(db)]
    for (const concurrency of CONCURRENCY) results.push(await runLog(db, concurrency))

    console.log(`audit write bench: ${dir} (synchronous=FULL, WAL)\n`)
    printTable(results)
    const verified = verifyAudit(db)
    console.log(
      `\nverify: ${verified.ok ? 'ok' : 'FAILED'}, ${verified.events.toLocaleString('en')} events`,
    )
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
