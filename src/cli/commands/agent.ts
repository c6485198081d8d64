import type { Command } from 'commander'
import { loadConfig, type GlobalOptions } from '../context.js'

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the agents declared in the config')
  agent
    .command('list')
    .description('list agents with their owner, team and policies')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
      if (options.json) {
        console.log(JSON.stringify(config.agents, null, 2))
        return
      }
      for (const a of config.agents) {
        console.log(`${a.name}\towner ${a.owner}\tteam ${a.team}\tpolicies ${a.policies.join(',')}`)
      }
    })
}
