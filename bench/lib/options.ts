import { parseArgs } from 'node:util'

/** Command-line options of `node dist/bench/run.js`. */
export interface BenchOptions {
  durationSeconds: number
  warmupSeconds: number
  connections: number
  /** How many times every scenario runs, interleaved; each row reports its median round. */
  rounds: number
  /** Scenario names to run, or `null` for all. */
  only: string[] | null
  pin: boolean
}

export const USAGE = `usage: node dist/bench/run.js [options]
  --duration <s>      measured seconds per scenario (default 10)
  --warmup <s>        discarded warm-up seconds per scenario (default 2)
  --connections <n>   concurrent connections (default 50; the -1conn scenarios use 1)
  --rounds <n>        run every scenario n times, round after round, and report the
                      median round of each (default 1; 3 or 5 on a shared machine)
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
      rounds: { type: 'string', default: '1' },
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
    rounds: positiveInteger('--rounds', values.rounds, 20),
    only: values.only === undefined ? null : splitList(values.only),
    pin: !values['no-pin'],
  }
}

function positiveInteger(flag: string, text: string, max = 3600): number {
  const value = Number(text)

  // Bounded on purpose: a bench that runs for hours by typo is worse than an error.
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${flag} must be a whole number from 1 to ${max}, got ${text}`)
  }
  return value
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
}
