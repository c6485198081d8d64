import type { Command } from 'commander'
import type { AuditFilter } from '../../audit/query.js'
import { exportAudit, queryAudit, tailAudit } from '../../audit/query.js'
import { verifyAudit } from '../../audit/verify.js'
import type { AuditEvent } from '../../audit/event.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { openState, withState, type GlobalOptions } from '../context.js'

interface FilterOptions {
  request?: string
  agent?: string
  owner?: string
  decision?: string
  host?: string
  type?: string
  since?: string
  until?: string
  limit?: string
}

function withFilters(command: Command): Command {
  return command
    .option('--request <id>', 'only this request (the id in its tollgate-request-id header)')
    .option('--agent <name>', 'only this agent')
    .option('--owner <email>', 'only agents of this owner')
    .option(
      '--decision <kind>',
      'allow | deny | would_deny | unauthenticated | malformed | limited | error',
    )
    .option('--host <host>', 'only this host')
    .option('--type <type>', 'only this event type, e.g. request.decided')
    .option('--since <time>', 'from this time (ISO 8601)')
    .option('--until <time>', 'before this time (ISO 8601)')
}

function toFilter(options: FilterOptions): AuditFilter {
  const filter: AuditFilter = {}
  for (const key of ['request', 'agent', 'owner', 'decision', 'host', 'type'] as const) {
    const value = options[key]
    if (value !== undefined) filter[key] = value
  }
  if (options.since) filter.since = parseTime(options.since, '--since')
  if (options.until) filter.until = parseTime(options.until, '--until')
  if (options.limit) filter.limit = Number(options.limit)
  return filter
}

function parseTime(value: string, flag: string): Date {
  const time = new Date(value)
  if (Number.isNaN(time.getTime())) {
    throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `${flag} is not a time: use ISO 8601`)
  }
  return time
}

function formatEvent(e: AuditEvent): string {
  const what = e.method
    ? `${e.method} ${e.scheme ?? ''}://${e.host ?? ''}:${e.port ?? ''}${e.path ?? ''}`
    : ''
  const outcome = [e.decision, e.code, e.rule, e.status].filter((v) => v !== null).join(' ')
  return `${e.seq}\t${e.time}\t${e.type}\t${e.agent ?? '-'}\t${what}\t${outcome}`
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('read, export and verify the audit trail')

  withFilters(audit.command('query'))
    .description('print matching events')
    .option('--limit <n>', 'at most this many events', '100')
    .option('--json', 'print JSON Lines')
    .action((options: FilterOptions & { json?: boolean }, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db) => {
        for (const e of queryAudit(db, toFilter(options))) {
          console.log(options.json ? JSON.stringify(e) : formatEvent(e))
        }
      })
    })

  withFilters(audit.command('export'))
    .description('write events as JSON Lines, one object per event, stable field names')
    .option('--format <format>', 'only jsonl is supported', 'jsonl')
    .action((options: FilterOptions & { format: string }, command: Command) => {
      if (options.format !== 'jsonl') {
        throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'the only export format is jsonl')
      }
      withState(command.optsWithGlobals<GlobalOptions>(), (db) => {
        exportAudit(db, toFilter(options), (line) => process.stdout.write(line + '\n'))
      })
    })

  withFilters(audit.command('tail'))
    .description('print the newest events; with -f keep following')
    .option('-f, --follow', 'keep printing new events until interrupted')
    .option('-n, --last <n>', 'how many recent events to show first', '10')
    .option('--json', 'print JSON Lines')
    .action(
      async (
        options: FilterOptions & { follow?: boolean; last: string; json?: boolean },
        command: Command,
      ) => {
        const last = Number(options.last)
        if (!Number.isInteger(last) || last < 1) {
          throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', '--last must be a whole number >= 1')
        }
        const { db } = openState(command.optsWithGlobals<GlobalOptions>())
        const stop = new AbortController()
        process.once('SIGINT', () => stop.abort())
        try {
          await tailAudit(
            db,
            { follow: options.follow === true, filter: toFilter(options), last },
            (e) => console.log(options.json ? JSON.stringify(e) : formatEvent(e)),
            stop.signal,
          )
        } finally {
          db.close()
        }
      },
    )

  audit
    .command('verify')
    .description('check the hash chain; exits 1 if any event was changed, removed or reordered')
    .action((_options: unknown, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db) => {
        const result = verifyAudit(db)
        if (result.ok) {
          console.log(`ok: ${result.events} events, head ${result.head}`)
          return
        }
        console.log(
          `FAILED at seq ${result.seq}: ${result.reason} ` +
            `(${result.events} events intact before it)`,
        )
        process.exitCode = 1
      })
    })
}
