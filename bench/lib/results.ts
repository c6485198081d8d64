import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

import type { Pinning } from './cpu-pinning.js'
import type { BenchOptions } from './options.js'
import type { ScenarioOutcome } from './report.js'

/** Everything written to `bench/results/<timestamp>.json`. */
export interface BenchResults {
  startedAt: string
  options: BenchOptions
  pinning: Pinning
  machine: { cpus: number; cpuModel: string; node: string; tools: Record<string, string> }
  outcomes: ScenarioOutcome[]
}

/** The machine and tool versions, so a result file says what it was measured on. */
export function describeMachine(): BenchResults['machine'] {
  const all = cpus()

  return {
    cpus: all.length,
    cpuModel: all[0]?.model ?? 'unknown',
    node: process.version,
    tools: {
      nginx: versionOf('nginx', ['-v']),
      squid: versionOf('squid', ['-v']).split('\n')[0] ?? '',
      wrk: versionOf('wrk', ['-v']).split('\n')[0] ?? '',
    },
  }
}

/** Writes the results file and returns its path. */
export function writeResults(repoRoot: string, results: BenchResults): string {
  const dir = join(repoRoot, 'bench', 'results')
  mkdirSync(dir, { recursive: true })

  // Colons are legal on Linux but awkward in shells and on other systems' checkouts.
  const stamp = results.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')
  const path = join(dir, `${stamp}.json`)
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`)
  return path
}

function versionOf(command: string, args: string[]): string {
  // nginx prints its version on stderr and wrk exits 1 after printing it: read both streams.
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 })
  if (result.error) return 'not found'

  return `${result.stdout}${result.stderr}`.trim()
}
