import type { PolicyEngine } from './engine.js'
import type { PolicyTestCase } from './policy-test-file.js'
import type { DecisionKind } from './request-target.js'
import { formatTarget } from './target-from-url.js'

export { parsePolicyTestFile, type PolicyTestCase } from './policy-test-file.js'

/** What one test case expected and what the engine actually decided. */
export interface PolicyTestResult {
  case: PolicyTestCase
  actual: { kind: DecisionKind; rule: string | null }
  passed: boolean
  /** Why it failed, one sentence per mismatch; empty when it passed. */
  failures: string[]
}

export interface PolicyTestReport {
  passed: number
  failed: number
  results: PolicyTestResult[]
}

/**
 * Runs a policy test table against a compiled engine (`tollgate policy test`). It uses the
 * same `decide` the relay uses, so a passing table says how requests will really be decided.
 */
export function runPolicyTests(
  engine: PolicyEngine,
  cases: readonly PolicyTestCase[],
): PolicyTestReport {
  const results = cases.map((testCase) => runCase(engine, testCase))
  const passed = results.filter((result) => result.passed).length

  return { passed, failed: results.length - passed, results }
}

/** One line per case (`PASS`/`FAIL`), reasons under failures, and a summary line. */
export function formatPolicyTestReport(report: PolicyTestReport): string {
  const lines = report.results.flatMap((result) => [
    formatResultLine(result),
    ...result.failures.map((failure) => `    ${failure}`),
  ])

  lines.push(`${report.passed} passed, ${report.failed} failed`)
  return lines.join('\n')
}

function runCase(engine: PolicyEngine, testCase: PolicyTestCase): PolicyTestResult {
  const decision = engine.decide(testCase.agent, testCase.target)
  const actual = { kind: decision.kind, rule: decision.rule?.id ?? null }

  const failures: string[] = []
  if (actual.kind !== testCase.expect) {
    failures.push(`expected ${testCase.expect}, got ${actual.kind}`)
  }
  if (testCase.rule !== undefined && testCase.rule !== actual.rule) {
    failures.push(`expected rule ${testCase.rule ?? 'none'}, got ${actual.rule ?? 'none'}`)
  }

  return { case: testCase, actual, passed: failures.length === 0, failures }
}

function formatResultLine(result: PolicyTestResult): string {
  const { case: testCase, actual } = result
  const status = result.passed ? 'PASS' : 'FAIL'
  const request = formatTarget(testCase.target)

  return (
    `${status} ${testCase.file}:${testCase.line} ${testCase.agent} ${request}` +
    ` -> ${actual.kind} (${actual.rule ?? 'no rule'})`
  )
}
