import { TollgateError } from '../errors/tollgate-error.js'

/** One problem found in a configuration file, located by line, column and key path. */
export interface ConfigIssue {
  /** The file as it was named to the loader. */
  file: string
  /** 1-based line; 0 when the problem has no place in the file (e.g. it could not be read). */
  line: number
  /** 1-based column; 0 when `line` is 0. */
  column: number
  /** Key path such as `agents[0].owner`; empty for the document as a whole. */
  path: string
  message: string
}

/**
 * A configuration that was refused. It carries every issue found, not just the first, so an
 * operator can fix a file in one pass. Messages name keys and the names users gave things,
 * never secret values.
 */
export class ConfigError extends TollgateError {
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    super('TOLLGATE_CONFIG_INVALID', summarise(issues))
    this.name = 'ConfigError'
    this.issues = issues
  }

  /** One line per issue: `tollgate.yaml:14:9: agents[0].owner: must be a string`. */
  format(): string {
    return this.issues.map(formatIssue).join('\n')
  }
}

/** Whether `value` is a refused configuration (and so carries `issues`). */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError
}

/** Formats one issue the way compilers do, so editors and terminals can jump to it. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file
  const path = issue.path === '' ? '' : `${issue.path}: `
  return `${where}: ${path}${issue.message}`
}

function summarise(issues: readonly ConfigIssue[]): string {
  const first = issues[0]
  if (!first) return 'the configuration is invalid'

  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `invalid configuration: ${formatIssue(first)}${more}`
}
