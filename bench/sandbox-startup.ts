/**
 * Sandbox start-up time: how long `true` takes in a box, 20 times each way.
 *
 * - `bwrap box`: bubblewrap with the exact arguments `tollgate run` builds (namespaces, mounts,
 *   the socat bridge and the wait for it to listen), without the relay round trips; then the
 *   same with the seccomp filter `tollgate run` installs (`+ seccomp`).
 * - `tollgate run`: the whole command as a user runs it against a live `tollgate serve`: Node
 *   start-up, config load, registering the sandbox over the control socket, the box, and
 *   unregistering it.
 * - `run --image`: the same on a two-layer OCI image (busybox-static and socat, as the
 *   integration test builds it), once cold (unpacking into the cache) and then warm. Skipped
 *   without /bin/busybox.
 *
 * Usage: `npm run build && node dist/bench/sandbox-startup.js [--runs 20]`. Needs bwrap and socat.
 */
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bwrapArgs } from '../src/sandbox/bwrap-argv.js'
import { SECCOMP_CHILD_FD, openProgramFd } from '../src/sandbox/box-process.js'
import { readHostRoot } from '../src/sandbox/host-root.js'
import { hostSeccompProgram } from '../src/sandbox/seccomp/box-filter.js'
import { NO_LIMITS } from '../src/sandbox/sandbox-limits.js'
import { BUSYBOX, testLayers, writeOciLayout } from '../test/integration/sandbox/oci-fixture.js'

const BIN = fileURLToPath(new URL('../../bin/tollgate.js', import.meta.url))

function runsOption(argv: string[]): number {
  const at = argv.indexOf('--runs')
  const value = at >= 0 ? Number(argv[at + 1]) : 20
  if (!Number.isInteger(value) || value <= 0) throw new Error('--runs takes a positive integer')
  return value
}

/** Runs `command` `runs` times; returns each wall time in milliseconds. Fails on a non-zero exit. */
function timeRuns(
  runs: number,
  command: string,
  args: string[],
  cwd: string,
  extraFds: number[] = [],
): number[] {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    const result = spawnSync(command, args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe', ...extraFds],
      encoding: 'utf8',
    })
    times.push(performance.now() - start)
    if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr}`)
  }
  return times
}

function summary(name: string, times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`
  return `${name.padEnd(14)} min ${fmt(at(0))}  median ${fmt(at(0.5))}  p90 ${fmt(at(0.9))}  max ${fmt(at(1))}`
}

/** The bare box, with the seccomp filter `tollgate run` installs or without it. */
function benchBareBox(runs: number, dir: string, seccomp: boolean): number[] {
  const sandboxDir = join(dir, seccomp ? 'box-seccomp' : 'box')
  mkdirSync(sandboxDir)
  // The bridge connects to the socket only when a client does; `true` never does.
  writeFileSync(join(sandboxDir, 'relay.sock'), '')
  writeFileSync(join(sandboxDir, 'ca.pem'), '')
  const args = bwrapArgs({
    sandboxId: 'sbx_bench000000000000',
    command: ['true'],
    relaySocket: join(sandboxDir, 'relay.sock'),
    caFile: join(sandboxDir, 'ca.pem'),
    root: { kind: 'host', host: readHostRoot() },
    home: '/root',
    workdir: null,
    env: {},
    imageEnv: {},
    cwd: null,
    user: null,
    seccompFd: seccomp ? SECCOMP_CHILD_FD : null,
    limits: NO_LIMITS,
  })
  if (!seccomp) return timeRuns(runs, 'bwrap', args, dir)

  // bwrap reads the program from the fd once per run, so each run gets a fresh one.
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const fd = openProgramFd(sandboxDir, hostSeccompProgram())
    try {
      times.push(...timeRuns(1, 'bwrap', args, dir, [fd]))
    } finally {
      closeSync(fd)
    }
  }
  return times
}

interface RunTimes {
  host: number[]
  /** The first `run --image`, which unpacks the image, then the cached runs; null without busybox. */
  image: { cold: number; warm: number[] } | null
}

async function benchTollgateRun(runs: number, dir: string): Promise<RunTimes> {
  const stateDir = join(dir, 'state')
  const config = join(dir, 'tollgate.yaml')
  writeFileSync(config, tollgateConfig(stateDir))
  const project = join(dir, 'project')
  mkdirSync(project)

  const serve = spawn(process.execPath, [BIN, '--config', config, 'serve'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    await waitForFile(join(stateDir, 'control.sock'))
    const run = (extra: string[]) => [BIN, '--config', config, 'run', '--agent', 'bench', ...extra]
    const host = timeRuns(runs, process.execPath, run(['--', 'true']), project)
    if (!existsSync(BUSYBOX)) return { host, image: null }
    const layout = join(dir, 'oci')
    writeOciLayout(layout, testLayers())
    const imageArgs = run(['--image', layout, '--', 'true'])
    const [cold = 0] = timeRuns(1, process.execPath, imageArgs, project)
    return { host, image: { cold, warm: timeRuns(runs, process.execPath, imageArgs, project) } }
  } finally {
    serve.kill('SIGTERM')
  }
}

function tollgateConfig(stateDir: string): string {
  return `version: 1
server:
  stateDir: ${JSON.stringify(stateDir)}
  proxy: { listen: 127.0.0.1:0 }
  control: { listen: 127.0.0.1:0 }
  logLevel: warn
people:
  - email: bench@example.com
    teams: [bench]
agents:
  - name: bench
    owner: bench@example.com
    team: bench
    policies: [none]
policies:
  - name: none
    rules:
      - name: nothing-real
        hosts: ["example.invalid"]
`
}

async function waitForFile(path: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`tollgate serve did not create ${path}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function main(): Promise<void> {
  const runs = runsOption(process.argv.slice(2))
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-sandbox-'))
  try {
    console.log(`sandbox start-up, ${runs} runs of \`true\` each`)
    console.log(summary('bwrap box', benchBareBox(runs, dir, false)))
    console.log(summary('+ seccomp', benchBareBox(runs, dir, true)))
    const times = await benchTollgateRun(runs, dir)
    console.log(summary('tollgate run', times.host))
    if (times.image === null) console.log('run --image   skipped: no /bin/busybox')
    else {
      console.log(`run --image   first run (unpacks the image) ${times.image.cold.toFixed(1)} ms`)
      console.log(summary('run --image', times.image.warm))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
