import type { Command } from 'commander'
import { recordSync } from '../../audit/audit-log.js'
import { parseDuration } from '../../config/duration.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { Directory } from '../../identity/directory.js'
import { TokenStore } from '../../identity/token-store.js'
import { signalStateChange } from '../../store/state-signal.js'
import { withDatabase, withState, type GlobalOptions } from '../context.js'

export function registerToken(program: Command): void {
  const token = program.command('token').description('issue, list and revoke agent tokens')

  token
    .command('issue')
    .description('issue a token for an agent; it is printed once and only its hash is kept')
    .requiredOption('-a, --agent <name>', 'the agent the token identifies')
    .option('--ttl <duration>', 'lifetime, e.g. 1h, 24h, 30d', '24h')
    .option('--note <text>', 'a note stored with the token (not secret)')
    .action((options: { agent: string; ttl: string; note?: string }, command: Command) => {
      withDatabase(command.optsWithGlobals<GlobalOptions>(), (db, loaded) => {
        const identity = new Directory(loaded.config).resolveAgent(options.agent)
        if (!identity) {
          throw new TollgateError('TOLLGATE_NOT_FOUND', `no agent named ${options.agent} in config`)
        }
        const ttl = parseDuration(options.ttl)
        // One transaction: a token never exists without the audit event that issued it.
        const issued = db.transaction(() => {
          const token = new TokenStore(db).issue(options.agent, ttl, options.note ?? null)
          recordSync(db, {
            type: 'token.issued',
            agent: identity.agent,
            owner: identity.owner,
            team: identity.team,
            token_id: token.record.id,
            policy_version: loaded.hash,
            detail: { expires_at: token.record.expiresAt.toISOString() },
          })
          return token
        })()
        process.stderr.write(
          `token ${issued.record.id} for ${options.agent}, ` +
            `expires ${issued.record.expiresAt.toISOString()}\n`,
        )
        console.log(issued.token)
      })
    })

  token
    .command('revoke <id>')
    .description('revoke a token at once, cutting its open connections')
    .action((id: string, _options: unknown, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db, state) => {
        const store = new TokenStore(db)
        const record = store.get(id)
        if (!record) throw new TollgateError('TOLLGATE_NOT_FOUND', `no token ${id}`)
        const revoked = db.transaction(() => {
          const done = store.revoke(id)
          const event = { agent: record.agent, token_id: id, policy_version: state.policyVersion }
          if (done) recordSync(db, { type: 'token.revoked', ...event })
          return done
        })()
        if (revoked) signalStateChange(state.stateDir)
        console.log(revoked ? `revoked ${id}` : `${id} was already revoked`)
      })
    })

  token
    .command('list')
    .description('list tokens (never their values)')
    .option('-a, --agent <name>', 'only this agent')
    .option('--json', 'print JSON')
    .action((options: { agent?: string; json?: boolean }, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db) => {
        const tokens = new TokenStore(db).list(options.agent)
        if (options.json) {
          console.log(JSON.stringify(tokens, null, 2))
          return
        }
        for (const t of tokens) {
          const state = t.revokedAt
            ? 'revoked'
            : t.expiresAt.getTime() <= Date.now()
              ? 'expired'
              : 'live'
          console.log(`${t.id}\t${t.agent}\t${state}\texpires ${t.expiresAt.toISOString()}`)
        }
      })
    })
}
