import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export interface LoggerOptions {
  level: string
  destination?: DestinationStream
}

/**
 * The operational log. Callers pass an object first and a constant message. No caller logs
 * header values or request bodies, and secret values travel as `SecretValue`, whose JSON form
 * is a placeholder; test/integration/cli checks a whole run's log for every injected value.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'tollgate' } }
  return options.destination ? pino(base, options.destination) : pino(base)
}

/** A logger that writes nothing, for tests and CLI commands that print their own output. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' })
}
