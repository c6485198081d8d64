import type { ConfigIssue } from './config-error.js'
import type { ConfigPath, SourcePosition, YamlSource } from './yaml-source.js'

/**
 * Collects the issues found in one configuration file. Checks report by key path; the list
 * turns each path into a line and column through the YAML source it was built with.
 */
export class IssueList {
  readonly #file: string
  readonly #source: YamlSource | null
  readonly #issues: ConfigIssue[] = []

  constructor(file: string, source: YamlSource | null) {
    this.#file = file
    this.#source = source
  }

  /**
   * Reports a problem with the value at `path`. With `target: 'key'` the problem is the last
   * key itself (unknown, missing): it is located at the key and reported against the map that
   * holds it, so the message reads `agents[0]: unknown key "polices"`.
   */
  add(path: ConfigPath, message: string, target: 'key' | 'value' = 'value'): void {
    const position = this.#source?.locate(path, target) ?? { line: 0, column: 0 }
    const shown = target === 'key' ? path.slice(0, -1) : path
    this.addAt(position, formatPath(shown), message)
  }

  /** Where `path` is written, for messages that point at a second place ("first at line 3"). */
  locate(path: ConfigPath): SourcePosition {
    return this.#source?.locate(path) ?? { line: 0, column: 0 }
  }

  /** Reports a problem at a known position, e.g. a YAML syntax error. */
  addAt(position: SourcePosition, path: string, message: string): void {
    this.#issues.push({ file: this.#file, ...position, path, message })
  }

  get isEmpty(): boolean {
    return this.#issues.length === 0
  }

  /** The issues in file order; issues on the same line keep the order they were found in. */
  toArray(): ConfigIssue[] {
    return [...this.#issues].sort((a, b) => a.line - b.line || a.column - b.column)
  }
}

/** `['agents', 0, 'owner']` → `agents[0].owner`. */
export function formatPath(path: ConfigPath): string {
  let text = ''
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`
  }
  return text
}
