import { Command, CommanderError } from 'commander'
import { reportError } from './context.js'
import { registerInit } from './commands/init.js'
import { registerServe } from './commands/serve.js'
import { registerCa } from './commands/ca.js'
import { registerToken } from './commands/token.js'
import { registerSecret } from './commands/secret.js'
import { registerAgent } from './commands/agent.js'
import { registerPolicy } from './commands/policy.js'
import { registerAudit } from './commands/audit.js'
import { registerRun } from './commands/run.js'
import { registerSandbox } from './commands/sandbox.js'

/** The `tollgate` command. Every sub-command lives in its own file under commands/. */
function buildProgram(): Command {
  const program = new Command('tollgate')
    .description('Govern AI agents: an identity-aware relay that decides, injects and records.')
    .option(
      '-c, --config <path>',
      'configuration file (default: $TOLLGATE_CONFIG or ./tollgate.yaml)',
    )
    .exitOverride()
    .showHelpAfterError()

  for (const register of [
    registerInit,
    registerServe,
    registerCa,
    registerToken,
    registerSecret,
    registerAgent,
    registerPolicy,
    registerAudit,
    registerRun,
    registerSandbox,
  ]) {
    register(program)
  }
  return program
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    return reportError(error)
  }
}

const code = await main(process.argv)
if (code !== 0) process.exitCode = code
