import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/**
 * Field names used in log lines. Defined once so every line spells them the same way, and so
 * the redaction allow-list below has one place to look.
 */
export const LOG_FIELDS = [
  'event',
  'requestId',
  'agent',
  'owner',
  'team',
  'tokenId',
  'sandboxId',
  'method',
  'scheme',
  'host',
  'port',
  'path',
  'decision',
  'code',
  'rule',
  'policyVersion',
  'credentials',
  'status',
  'bytesIn',
  'bytesOut',
  'durationMs',
  'upstreamError',
] as const

export interface LoggerOptions {
  level: string
  destination?: DestinationStream
}

/**
 * The operational log. Callers pass an object first and a constant message. Header values are
 * never logged; secret values travel as `SecretValue`, whose JSON form is a placeholder.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'tollgate' } }
  return options.destination ? pino(base, options.destination) : pino(base)
}

/** A logger that writes nothing, for tests and CLI commands that print their own output. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' })
}
