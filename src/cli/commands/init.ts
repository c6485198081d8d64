import { existsSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { EXAMPLE_CONFIG } from '../../config/example.js'
import { TollgateError } from '../../errors/tollgate-error.js'
import { configPath, type GlobalOptions } from '../context.js'

/** Writes the commented example config; never overwrites one without --force. */
export function writeExampleConfig(path: string, force: boolean): void {
  if (existsSync(path) && !force) {
    throw new TollgateError(
      'TOLLGATE_INVALID_ARGUMENT',
      `${path} exists; use --force to replace it`,
    )
  }
  writeFileSync(path, EXAMPLE_CONFIG, { mode: 0o600 })
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented example tollgate.yaml')
    .option('-f, --force', 'overwrite an existing file')
    .action((options: { force?: boolean }, command: Command) => {
      const path = configPath(command.optsWithGlobals<GlobalOptions>())
      writeExampleConfig(path, options.force === true)
      console.log(`wrote ${path}`)
      console.log('next: edit it, then `tollgate serve`')
    })
}
