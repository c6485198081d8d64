import type { Command } from 'commander'
import { SandboxClient } from '../../control-plane/sandbox-client.js'
import { loadConfig, type GlobalOptions } from '../context.js'

function clientFor(command: Command): SandboxClient {
  const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
  return new SandboxClient(config.server.stateDir)
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('list and stop the sandboxes of the running relay')

  sandbox
    .command('list')
    .description('list registered sandboxes')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const sandboxes = await clientFor(command).list()
      if (options.json) {
        console.log(JSON.stringify(sandboxes, null, 2))
        return
      }
      for (const s of sandboxes) {
        console.log(`${s.id}\t${s.agent}\t${s.owner}\t${s.started_at}\t${s.command.join(' ')}`)
      }
    })

  sandbox
    .command('stop <id>')
    .description('stop a sandbox: its relay listener closes and its connections are cut')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientFor(command).stop(id)
      console.log(`stopped ${id}`)
    })
}
