import type { Pinning } from './cpu-pinning.js'
import type { Supervisor } from './supervisor.js'
import type { RequestShape } from './wrk-script.js'

/** What every scenario gets: one temp dir, one supervisor, one upstream, one pinning choice. */
export interface BenchContext {
  /** Temp dir of this run; configs, scripts, logs and state live here. */
  dir: string
  supervisor: Supervisor
  pinning: Pinning
  /** Repository root, where `bin/tollgate.js` and `dist/` are. */
  repoRoot: string
  upstreamPort: number
}

/** A path under test, ready to take load. */
export interface RunningTarget {
  /** What wrk connects to. */
  url: string
  /** The port behind `url`, for the preflight request. */
  port: number
  shape: RequestShape
  /** Root of the proxy's process tree, whose CPU is measured; `null` when there is no proxy. */
  proxyPid: number | null
  /** Response header that must read `1` if the proxy did its per-request work. */
  marker: string | null
  stop(): Promise<void>
}

/** One row of the comparison. */
export interface Scenario {
  name: string
  /** `null` takes the run's `--connections`. */
  connections: number | null
  /** Which scenario this one is compared to. */
  baseline: string
  start(context: BenchContext): Promise<RunningTarget>
}
