import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { ConfigWatcher } from '../../config/watcher.js'
import type { LoadedConfig } from '../../config/types.js'
import { ConfigError } from '../../config/config-error.js'
import { createLogger } from '../../observability/logger.js'
import { TollgateService } from '../../service/tollgate-service.js'
import { configPath, isDefaultConfigPath, loadConfig, type GlobalOptions } from '../context.js'
import { writeExampleConfig } from './init.js'

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the relay and the control plane')
    .action(async (_options: unknown, command: Command) => {
      await serve(command.optsWithGlobals<GlobalOptions>())
    })
}

async function serve(options: GlobalOptions): Promise<void> {
  const path = configPath(options)
  // The quick start runs `serve` on a fresh checkout: give it the example to start from.
  if (isDefaultConfigPath(options) && !existsSync(path)) {
    writeExampleConfig(path, false)
    process.stderr.write(`tollgate: no config found; wrote the example to ${path}\n`)
  }

  const loaded = loadConfig(options)
  const logger = createLogger({ level: loaded.config.server.logLevel })
  const service = await TollgateService.start(loaded, { logger })
  logListening(logger, service, loaded)

  // A failed audit write while recording a reload must not take the relay down.
  const logFailure = (err: unknown) => logger.error({ err }, 'recording a config change failed')
  const watcher = new ConfigWatcher(path, {
    onChange: (next: LoadedConfig) => void service.applyConfig(next).catch(logFailure),
    onError: (error: Error) => void service.rejectConfig(path, describe(error)).catch(logFailure),
    current: loaded,
    logger,
  })
  watcher.start()
  process.on('SIGHUP', () => watcher.reload())
  await waitForStopSignal()

  logger.info({ event: 'relay.stopping' }, 'stopping')
  watcher.stop()
  await service.stop(loaded.config.server.shutdownGraceMs)
  logger.info({ event: 'relay.stopped' }, 'stopped')
}

function logListening(
  logger: ReturnType<typeof createLogger>,
  service: TollgateService,
  loaded: LoadedConfig,
) {
  const { proxy, reverse, control } = service.addresses
  logger.info(
    {
      event: 'relay.started',
      proxy: `${proxy.address}:${proxy.port}`,
      reverse: reverse ? `${reverse.address}:${reverse.port}` : null,
      control: `${control.address}:${control.port}`,
      policyVersion: loaded.hash,
      stateDir: loaded.config.server.stateDir,
    },
    'relay listening',
  )
}

function waitForStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

function describe(error: Error): string {
  return error instanceof ConfigError ? error.format() : error.message
}
