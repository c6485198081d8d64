import type { Command } from 'commander'
import { loadOrCreateCa } from '../../relay/tls/certificate-authority.js'
import { ensureStateDir } from '../../store/state-dir.js'
import { loadConfig, type GlobalOptions } from '../context.js'

export function registerCa(program: Command): void {
  program
    .command('ca')
    .description("print the relay CA certificate (PEM) for agents' clients to trust")
    .action(async (_options: unknown, command: Command) => {
      const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
      ensureStateDir(config.server.stateDir)
      const ca = await loadOrCreateCa(config.server.stateDir)
      process.stdout.write(
        ca.certificatePem.endsWith('\n') ? ca.certificatePem : ca.certificatePem + '\n',
      )
    })
}
