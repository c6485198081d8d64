import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLError,
} from 'yaml'

/** A key path into the document: map keys and sequence indexes, outermost first. */
export type ConfigPath = ReadonlyArray<string | number>

export interface SourcePosition {
  line: number
  column: number
}

/** A problem found while reading the YAML itself, before its meaning is looked at. */
export interface SourceProblem extends SourcePosition {
  message: string
}

/**
 * A parsed `tollgate.yaml` that remembers where every node came from, so that errors found
 * later (by the schema or by semantic checks) can name a line and column.
 */
export class YamlSource {
  readonly #text: string
  readonly #doc: Document.Parsed
  readonly #lines = new LineCounter()

  constructor(text: string) {
    this.#text = text
    // uniqueKeys: a repeated key would otherwise silently shadow the first, so a rule could be
    // overridden further down the file without anyone noticing.
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
      strict: true,
    })
  }

  /** Syntax errors, warnings (such as unknown tags), anchors and aliases, in file order. */
  problems(): SourceProblem[] {
    const found = [...this.#doc.errors, ...this.#doc.warnings].map((e) => this.#fromYamlError(e))
    found.push(...this.#anchorsAndAliases())
    return found.sort((a, b) => a.line - b.line || a.column - b.column)
  }

  /** The document as plain data. Only meaningful when `problems()` is empty. */
  toData(): unknown {
    return this.#doc.toJS()
  }

  /**
   * Where `path` is written. With `target: 'key'` the position of the last key itself (for
   * "unknown key" errors); otherwise its value. A path that does not exist resolves to the
   * deepest part of it that does, so a missing key points at the map that lacks it.
   */
  locate(path: ConfigPath, target: 'key' | 'value' = 'value'): SourcePosition {
    let node: unknown = this.#doc.contents
    let position = this.#positionOf(node)

    for (const [index, segment] of path.entries()) {
      const isLast = index === path.length - 1
      const step = this.#step(node, segment, isLast && target === 'key')
      if (!step) break

      node = step.node
      position = step.position
    }
    return position
  }

  #step(node: unknown, segment: string | number, wantKey: boolean) {
    if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment]
      return item ? { node: item, position: this.#positionOf(item) } : null
    }
    if (!isMap(node)) return null

    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))
    if (!pair) return null
    return { node: pair.value, position: this.#pairPosition(pair, wantKey) }
  }

  #pairPosition(pair: Pair, wantKey: boolean): SourcePosition {
    // An empty value (`owner:`) has its range at the next token, often lines below: the key is
    // where a reader looks.
    const isEmpty = isScalar(pair.value) && pair.value.value === null && !pair.value.source
    return wantKey || isEmpty || !pair.value
      ? this.#positionOf(pair.key)
      : this.#positionOf(pair.value)
  }

  #positionOf(node: unknown): SourcePosition {
    const range = (node as Partial<Node> | null)?.range
    return this.#at(range?.[0] ?? 0)
  }

  #at(offset: number): SourcePosition {
    const { line, col } = this.#lines.linePos(offset)
    return { line, column: col }
  }

  #fromYamlError(error: YAMLError): SourceProblem {
    const [start] = error.pos
    const key = /^[^:\s]+/.exec(this.#text.slice(start))?.[0] ?? ''
    const message = error.code === 'DUPLICATE_KEY' ? `duplicate key "${key}"` : error.message
    return { ...this.#at(start), message }
  }

  #anchorsAndAliases(): SourceProblem[] {
    const found: SourceProblem[] = []

    // One node reachable from several key paths would make errors, reviews and diffs point at
    // the wrong place; tollgate.yaml is meant to be read literally.
    visit(this.#doc, {
      Node: (_key, node) => {
        if (isAlias(node)) found.push(this.#problem(node, 'aliases (*name) are not supported'))
        else if (node.anchor) found.push(this.#problem(node, 'anchors (&name) are not supported'))
      },
    })
    return found
  }

  #problem(node: Node, message: string): SourceProblem {
    return { ...this.#positionOf(node), message }
  }
}
