import type { Command } from 'commander'
import { recordSync } from '../../audit/audit-log.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { loadMasterKey } from '../../secrets/master-key.js'
import { SecretStore } from '../../secrets/secret-store.js'
import { SecretValue } from '../../secrets/secret-value.js'
import { signalStateChange } from '../../store/state-signal.js'
import type { Database } from '../../store/database.js'
import { readStdin, withState, type GlobalOptions } from '../context.js'

function openSecrets(db: Database, stateDir: string): SecretStore {
  return new SecretStore(db, loadMasterKey({ stateDir, env: process.env }))
}

export function registerSecret(program: Command): void {
  const secret = program
    .command('secret')
    .description('store secrets (write-only: values are never shown)')

  secret
    .command('set <name>')
    .description('store a secret read from standard input (one trailing newline is dropped)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const input = await readStdin()
      const value = stripOneNewline(input.toString('utf8'))
      if (value.length === 0) {
        throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', 'the secret read from stdin is empty')
      }
      withState(command.optsWithGlobals<GlobalOptions>(), (db, state) => {
        const secrets = openSecrets(db, state.stateDir)
        // One transaction: a secret never changes without the audit event that says so.
        const result = db.transaction(() => {
          const set = secrets.set(name, new SecretValue(value))
          const detail = { name, version: set.version }
          recordSync(db, { type: 'secret.set', policy_version: state.policyVersion, detail })
          return set
        })()
        signalStateChange(state.stateDir)
        console.log(
          `${result.created ? 'created' : 'updated'} secret ${name} (version ${result.version})`,
        )
      })
    })

  secret
    .command('delete <name>')
    .description('delete a secret')
    .action((name: string, _options: unknown, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db, state) => {
        const secrets = openSecrets(db, state.stateDir)
        db.transaction(() => {
          if (!secrets.delete(name)) {
            throw new TollgateError('TOLLGATE_NOT_FOUND', `no secret ${name}`)
          }
          recordSync(db, {
            type: 'secret.deleted',
            policy_version: state.policyVersion,
            detail: { name },
          })
        })()
        signalStateChange(state.stateDir)
        console.log(`deleted secret ${name}`)
      })
    })

  secret
    .command('list')
    .description('list secret names and versions')
    .action((_options: unknown, command: Command) => {
      withState(command.optsWithGlobals<GlobalOptions>(), (db, state) => {
        for (const s of openSecrets(db, state.stateDir).list()) {
          console.log(`${s.name}\tversion ${s.version}\tupdated ${s.updatedAt.toISOString()}`)
        }
      })
    })
}

function stripOneNewline(value: string): string {
  if (value.endsWith('\r\n')) return value.slice(0, -2)
  return value.endsWith('\n') ? value.slice(0, -1) : value
}
