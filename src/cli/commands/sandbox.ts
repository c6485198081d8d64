import type { Command } from 'commander'
import { SandboxClient } from '../../control-plane/sandbox-client.js'
import { isTollgateError } from '../../errors/tollgate-error.js'
import { outputLogPath } from '../../sandbox/output-log.js'
import { printOutputLog } from '../../sandbox/output-log-reader.js'
import { loadConfig, type GlobalOptions } from '../context.js'

function stateDirOf(command: Command): string {
  return loadConfig(command.optsWithGlobals<GlobalOptions>()).config.server.stateDir
}

function clientFor(command: Command): SandboxClient {
  return new SandboxClient(stateDirOf(command))
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('list, stop and read the output of the sandboxes of the running relay')

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
        const seccomp = s.seccomp ? 'seccomp' : 'no-seccomp'
        const fields = [s.id, s.agent, s.owner, s.started_at, seccomp, s.command.join(' ')]
        console.log(fields.join('\t'))
      }
    })

  sandbox
    .command('stop <id>')
    .description('stop a sandbox: its relay listener closes and its connections are cut')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientFor(command).stop(id)
      console.log(`stopped ${id}`)
    })

  sandbox
    .command('logs <id>')
    .description("print a sandbox's captured stdout and stderr (running or stopped)")
    .option('-f, --follow', 'keep printing new output until the sandbox stops')
    .action(async (id: string, options: { follow?: boolean }, command: Command) => {
      const stateDir = stateDirOf(command)
      const path = outputLogPath(stateDir, id)
      const client = new SandboxClient(stateDir)
      const isRunning = options.follow ? () => isRegistered(client, id) : null
      await printOutputLog(path, writeStdout, isRunning)
    })
}

/** Whether the relay still lists the sandbox; a relay that is gone has no running sandboxes. */
async function isRegistered(client: SandboxClient, id: string): Promise<boolean> {
  try {
    return (await client.list()).some((s) => s.id === id)
  } catch (error) {
    if (isTollgateError(error) && error.code === 'TOLLGATE_NOT_FOUND') return false
    // A relay killed outright leaves its control socket behind, refusing connections.
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return false
    throw error
  }
}

function writeStdout(chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()))
  })
}
