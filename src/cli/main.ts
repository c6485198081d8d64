import { createRequire } from 'node:module'
import { Command, CommanderError } from 'commander'
import { reportError } from './context.js'

type Register = (program: Command) => void

/**
 * Every sub-command lives in its own file under commands/, loaded only when it is the one
 * asked for: loading all of them (the relay, the TLS stack, the schema compiler) costs about
 * half a second, which `tollgate run` would otherwise add to every sandbox start.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.js')).registerInit,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  ca: async () => (await import('./commands/ca.js')).registerCa,
  token: async () => (await import('./commands/token.js')).registerToken,
  secret: async () => (await import('./commands/secret.js')).registerSecret,
  agent: async () => (await import('./commands/agent.js')).registerAgent,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  run: async () => (await import('./commands/run.js')).registerRun,
  sandbox: async () => (await import('./commands/sandbox.js')).registerSandbox,
}

/**
 * The `tollgate` command, with `only` registered or, for help and mistakes, every command
 * (`'none'` registers nothing: enough for `--version`).
 */
async function buildProgram(only: string | null): Promise<Command> {
  const program = new Command('tollgate')
    .description('Govern AI agents: an identity-aware relay that decides, injects and records.')
    .version(packageVersion(), '-V, --version', 'print the version of Tollgate')
    .option(
      '-c, --config <path>',
      'configuration file (default: $TOLLGATE_CONFIG or ./tollgate.yaml)',
    )
    .exitOverride()
    .showHelpAfterError()

  const names = only === null ? Object.keys(COMMANDS) : [only]
  for (const name of names) {
    const load = COMMANDS[name]
    if (load) (await load())(program)
  }
  return program
}

/**
 * The sub-command named on the command line, skipping global options, or null when there is
 * none or it is not one we know (then every command is registered, so help and "did you mean"
 * see them all).
 */
function requestedCommand(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ''
    if (arg === '-c' || arg === '--config') {
      i++
      continue
    }
    if (arg.startsWith('-')) continue
    return Object.hasOwn(COMMANDS, arg) ? arg : null
  }
  return null
}

function packageVersion(): string {
  const require = createRequire(import.meta.url)
  const pkg = require('../../../package.json') as { version?: unknown }
  return typeof pkg.version === 'string' ? pkg.version : 'unknown'
}

async function main(argv: string[]): Promise<number> {
  try {
    const args = argv.slice(2)
    const versionOnly = args.length === 1 && (args[0] === '-V' || args[0] === '--version')
    const program = await buildProgram(versionOnly ? 'none' : requestedCommand(args))
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    return reportError(error)
  }
}

const code = await main(process.argv)
if (code !== 0) process.exitCode = code
