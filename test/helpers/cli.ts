import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The real launcher, as users run it. Tests run from dist/test/helpers, three levels down. */
export const TOLLGATE_BIN = fileURLToPath(new URL('../../../bin/tollgate.js', import.meta.url))

/** How long one CLI command may take before the test gives up on it and kills it. */
const COMMAND_TIMEOUT_MS = 30_000

export interface CliResult {
  /** Exit code, or null when the command was killed by a signal. */
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Written to the command's standard input, which is then closed. */
  stdin?: string
  /** Added to (or, with undefined, removed from) the cleaned environment. */
  env?: Record<string, string | undefined>
  cwd?: string
}

/**
 * The parent's environment without TOLLGATE_* variables, so a developer's own
 * TOLLGATE_CONFIG or TOLLGATE_MASTER_KEY can never leak into a test.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TOLLGATE_')) env[key] = value
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

function spawnTollgate(args: string[], options: CliOptions): ChildProcess {
  return spawn(process.execPath, [TOLLGATE_BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** Runs `tollgate ARGS` to completion and captures its exit code and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnTollgate(args, options)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
  // Always close stdin: a command that reads it (secret set) must not wait forever.
  child.stdin?.end(options.stdin ?? '')

  const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
  })
}

/** The `"msg":"relay listening"` log line's addresses, as ports. */
export interface ServeAddresses {
  proxyPort: number
  reversePort: number | null
  controlPort: number
}

export interface ServeProcess extends ServeAddresses {
  /** Every line serve wrote to stdout and stderr, in arrival order. */
  lines: string[]
  /** Resolves once the process has exited, with its exit code (null if killed by a signal). */
  exited: Promise<number | null>
  /** Waits for a line that satisfies `match`; fails after `timeoutMs` naming `what`. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>
  signal(name: NodeJS.Signals): void
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>
  /** For `after` hooks: stops the process if it still runs, killing it if it hangs. */
  kill(): Promise<void>
}

/** A line of pino JSON, or null for anything else (stderr text, partial output). */
export function parseLogLine(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** True for the log line with this constant message (pino's `msg`). */
export function hasMessage(message: string): (line: string) => boolean {
  return (line) => parseLogLine(line)?.['msg'] === message
}

function portOf(address: unknown): number {
  if (typeof address !== 'string')
    throw new Error(`no address in listening line: ${String(address)}`)
  return Number(address.slice(address.lastIndexOf(':') + 1))
}

function addressesFrom(line: string): ServeAddresses {
  const log = parseLogLine(line) ?? {}
  return {
    proxyPort: portOf(log['proxy']),
    reversePort: log['reverse'] === null ? null : portOf(log['reverse']),
    controlPort: portOf(log['control']),
  }
}

/**
 * Starts `tollgate serve` and resolves once it logs `relay listening`, with the ports it bound.
 * Rejects (and kills the process) if it exits first or does not listen within `timeoutMs`.
 */
export async function startServe(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const child = spawnTollgate([...args, 'serve'], options)
  child.stdin?.end()
  const lines: string[] = []
  const waiters = new Set<() => void>()
  const notify = () => waiters.forEach((wake) => wake())
  collectLines(child, lines, notify)

  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code))
  })
  let hasExited = false
  void exited.then(() => {
    hasExited = true
    notify()
  })

  const waitForLine = async (
    match: (line: string) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<string> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = lines.find(match)
      if (found !== undefined) return found
      if (hasExited) throw new Error(`serve exited before ${what}:\n${lines.join('\n')}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, 100)
        waiters.add(wake)
      })
    }
  }

  const stop = async () => {
    if (!hasExited) child.kill('SIGTERM')
    return exited
  }
  const kill = async () => {
    if (hasExited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }

  let listening: string
  try {
    listening = await waitForLine(
      hasMessage('relay listening'),
      'relay listening',
      options.timeoutMs,
    )
  } catch (error) {
    await kill()
    throw error
  }
  return {
    ...addressesFrom(listening),
    lines,
    exited,
    waitForLine,
    signal: (name) => void child.kill(name),
    stop,
    kill,
  }
}

/** Splits both output streams into lines as they arrive. */
function collectLines(child: ChildProcess, lines: string[], onLine: () => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = ''
    stream?.setEncoding('utf8')
    stream?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      lines.push(...parts)
      onLine()
    })
    stream?.on('end', () => {
      if (partial !== '') lines.push(partial)
      partial = ''
      onLine()
    })
  }
}

/** The `server:` section every CLI test uses: loopback, ephemeral ports, its own state dir. */
export function serverSection(stateDir: string, shutdownGrace = '5s'): string {
  return `version: 1
server:
  stateDir: ${JSON.stringify(stateDir)}
  proxy: { listen: 127.0.0.1:0 }
  reverse: { listen: 127.0.0.1:0 }
  control: { listen: 127.0.0.1:0 }
  timeouts: { connect: 5s, headers: 10s, body: 10s, idle: 30s }
  shutdownGrace: ${shutdownGrace}
  logLevel: debug
`
}

/**
 * One temporary directory per test: a config file, its state directory, and `run`/`serve`
 * bound to that config with `--config`.
 */
export interface CliWorkspace {
  dir: string
  configPath: string
  stateDir: string
  /** `<stateDir>/tollgate.db`, the SQLite store. */
  dbPath: string
  /** Writes `serverSection()` followed by `body` as the config, atomically. */
  writeConfig(body: string, shutdownGrace?: string): string
  /** Writes a file into the workspace (atomically) and returns its path. */
  writeFile(name: string, text: string): string
  run(args: string[], options?: CliOptions): Promise<CliResult>
  serve(options?: CliOptions): Promise<ServeProcess>
  remove(): void
}

export function createWorkspace(): CliWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'))
  const stateDir = join(dir, 'state')
  const configPath = join(dir, 'tollgate.yaml')
  const writeFile = (name: string, text: string) => {
    const path = join(dir, name)
    // Write then rename, so the config watcher never reads a half-written file.
    const temporary = `${path}.tmp-${process.pid}`
    writeFileSync(temporary, text)
    renameSync(temporary, path)
    return path
  }
  return {
    dir,
    configPath,
    stateDir,
    dbPath: join(stateDir, 'tollgate.db'),
    writeConfig: (body, grace) => writeFile('tollgate.yaml', serverSection(stateDir, grace) + body),
    writeFile,
    run: (args, options) => runCli(['--config', configPath, ...args], options),
    serve: (options) => startServe(['--config', configPath], options),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Polls an async check until it returns true; fails after `timeoutMs` naming `what`. */
export async function pollUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Non-empty lines of a command's output. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '')
}
