import { isMap, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml'
import { TollgateError } from '../errors/tollgate-error.js'
import type { DecisionKind, RequestTarget } from './request-target.js'
import { targetFromUrl } from './target-from-url.js'

/** One row of a policy test table: what an agent asks and what policy should answer. */
export interface PolicyTestCase {
  file: string
  /** Position in the `tests` list, from 0. */
  index: number
  line: number
  agent: string
  /** The request as written, `METHOD URL`; shown in reports only as its canonical target. */
  target: RequestTarget
  expect: DecisionKind
  /** Expected deciding rule id (`policy/rule`); null for "none"; absent when not checked. */
  rule?: string | null
}

const KINDS: readonly DecisionKind[] = ['allow', 'deny', 'would_deny']
const KEYS = new Set(['agent', 'request', 'expect', 'rule'])
const METHOD = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*$/

/**
 * Parses a policy test table:
 *
 * ```yaml
 * tests:
 *   - agent: build-bot
 *     request: GET https://api.github.com/repos/x/y
 *     expect: allow        # allow | deny | would_deny
 *     rule: github/read    # optional; "none" when no rule should decide
 * ```
 *
 * Throws TOLLGATE_INVALID_ARGUMENT listing every problem, each as `file:line: tests[i]: …`.
 */
export function parsePolicyTestFile(text: string, file: string): PolicyTestCase[] {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })

  const syntax = doc.errors.map(
    (error) => `${file}:${lineOf(lines, error.pos[0])}: ${error.message}`,
  )
  if (syntax.length > 0) throw invalid(syntax)

  const tests = isMap(doc.contents) ? doc.contents.get('tests', true) : undefined
  if (!isSeq(tests)) throw invalid([`${file}:1: expected a top-level "tests:" list`])

  const problems: string[] = []
  const cases: PolicyTestCase[] = []
  tests.items.forEach((item, index) => {
    const line = lineOf(lines, rangeStart(item))
    const fields = parseItem(item, `${file}:${line}: tests[${index}]`, problems)
    if (fields !== null) cases.push({ file, index, line, ...fields })
  })

  if (problems.length > 0) throw invalid(problems)
  return cases
}

type ParsedFields = Omit<PolicyTestCase, 'file' | 'index' | 'line'>

function parseItem(item: unknown, where: string, problems: string[]): ParsedFields | null {
  if (isMap(item)) return parseCase(item, where, problems)

  problems.push(`${where}: expected a map with agent, request and expect`)
  return null
}

function parseCase(item: YAMLMap, where: string, problems: string[]): ParsedFields | null {
  const data = item.toJSON() as Record<string, unknown>
  const before = problems.length

  for (const key of Object.keys(data).filter((key) => !KEYS.has(key))) {
    problems.push(`${where}: unknown key "${key}"`)
  }
  const agent = requireString(data, 'agent', where, problems)
  const target = parseRequest(requireString(data, 'request', where, problems), where, problems)
  const expect = parseExpect(data['expect'], where, problems)
  const rule = parseRule(data['rule'], where, problems)

  if (problems.length > before || agent === null || target === null || expect === null) return null
  return rule === undefined ? { agent, target, expect } : { agent, target, expect, rule }
}

function requireString(
  data: Record<string, unknown>,
  key: string,
  where: string,
  problems: string[],
): string | null {
  const value = data[key]
  if (typeof value === 'string' && value.trim() !== '') return value.trim()

  problems.push(`${where}: "${key}" must be a non-empty string`)
  return null
}

function parseRequest(
  request: string | null,
  where: string,
  problems: string[],
): RequestTarget | null {
  if (request === null) return null

  const [method, url, ...rest] = request.split(/\s+/)
  if (method === undefined || url === undefined || rest.length > 0 || !METHOD.test(method)) {
    problems.push(`${where}: "request" must be "METHOD URL", e.g. "GET https://host/path"`)
    return null
  }

  try {
    return targetFromUrl(method, url)
  } catch (error) {
    const reason = error instanceof TollgateError ? error.message : 'unreadable URL'
    problems.push(`${where}: "request" URL: ${reason}`)
    return null
  }
}

function parseExpect(value: unknown, where: string, problems: string[]): DecisionKind | null {
  const kind = KINDS.find((candidate) => candidate === value)
  if (kind !== undefined) return kind

  problems.push(`${where}: "expect" must be one of ${KINDS.join(', ')}`)
  return null
}

/** Undefined: not checked. Null: no rule may decide ("none"). */
function parseRule(value: unknown, where: string, problems: string[]): string | null | undefined {
  if (value === undefined) return undefined
  if (value === 'none') return null
  if (typeof value === 'string' && value.includes('/')) return value

  problems.push(`${where}: "rule" must be "policy/rule" or "none"`)
  return undefined
}

function rangeStart(node: unknown): number {
  const range = (node as { range?: [number, number, number] } | null)?.range
  return range?.[0] ?? 0
}

function lineOf(lines: LineCounter, offset: number): number {
  return lines.linePos(offset).line
}

function invalid(problems: string[]): TollgateError {
  return new TollgateError('TOLLGATE_INVALID_ARGUMENT', problems.join('\n'))
}
