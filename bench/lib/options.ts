import { parseArgs } from 'node:util'

/** Command-line options of `node dist/bench/run.js`. */
export interface BenchOptions {
  durationSeconds: number
  warmupSeconds: number
  connections: number
  /** Scenario names to run, or `null` for all. */
  only: string[] | null
  pin: boolean
}

export const USAGE = `usage: node dist/bench/run.js [options]
  --duration <s>      measured seconds per scenario (default 10)
  --warmup <s>        discarded warm-up seconds per scenario (default 2)
  --connections <n>   concurrent connections (default 50; the -1conn scenarios use 1)
  --only <a,b,...>    run only these scenarios
  --no-pin            do not pin wrk and the proxy to separate CPUs with taskset
  --help              show this text`

/** Parses and checks argv; throws with a message that fits on the terminal. */
export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      only: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return 'help'

  return {
    durationSeconds: positiveInteger('--duration', values.duration),
    warmupSeconds: positiveInteger('--warmup', values.warmup),
    connections: positiveInteger('--connections', values.connections),
    only: values.only === undefined ? null : splitList(values.only),
    pin: !values['no-pin'],
  }
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text)

  // Bounded on purpose: a bench that runs for hours by typo is worse than an error.
  if (!Number.isInteger(value) || value < 1 || value > 3600) {
    throw new Error(`${flag} must be a whole number from 1 to 3600, got ${text}`)
  }
  return value
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
}
