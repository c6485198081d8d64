import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  type CliResult,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { createUpstreamTls } from '../../helpers/upstream-tls.js'
import { cliTestConfig } from '../cli/cli-config.js'
import { findExecutable } from '../../../src/sandbox/find-executable.js'

/** Real bubblewrap or nothing: on CI a missing bwrap is a failure, not a skip. */
export const NO_BWRAP = findExecutable('bwrap') === null && process.env['CI'] !== 'true'

/**
 * What a sandbox test starts from: a CLI workspace whose config allows `bot` to reach an echo
 * upstream, an empty project directory to run in, a fake $HOME, and a running `tollgate serve`.
 */
export interface SandboxWorkspace {
  ws: CliWorkspace
  upstream: EchoUpstream
  /** An HTTPS echo upstream the relay trusts, when asked for (`{ https: true }`). */
  httpsUpstream: EchoUpstream | null
  serve: ServeProcess
  project: string
  home: string
  url(path: string): string
  /** The HTTPS upstream's URL for `path`; only with `{ https: true }`. */
  httpsUrl(path: string): string
  /** `tollgate run --agent bot [args] -- sh -c SCRIPT` from the project, with the fake $HOME. */
  box(script: string, args?: string[]): Promise<CliResult>
  stop(): Promise<void>
}

/**
 * Starts one. `prepare` runs after the directories exist and before `serve` starts: the place
 * for secrets, home dotfiles and images.
 */
export async function startSandboxWorkspace(
  prepare: (parts: { ws: CliWorkspace; project: string; home: string }) => unknown = () => null,
  options: { https?: boolean } = {},
): Promise<SandboxWorkspace> {
  const upstream = await startEchoUpstream()
  const ws = createWorkspace()
  const httpsUpstream = options.https ? await startHttpsUpstream(ws) : null
  const ports = httpsUpstream
    ? { http: upstream.port, https: httpsUpstream.port, caFile: './upstream-ca.pem' }
    : { http: upstream.port }
  ws.writeConfig(cliTestConfig(ports))
  const project = join(ws.dir, 'project')
  const home = join(ws.dir, 'home')
  mkdirSync(project)
  mkdirSync(home)
  await prepare({ ws, project, home })
  const serve = await ws.serve()

  return {
    ws,
    upstream,
    httpsUpstream,
    serve,
    project,
    home,
    url: (path) => `http://127.0.0.1:${upstream.port}${path}`,
    httpsUrl: (path) => `https://127.0.0.1:${httpsUpstream?.port ?? 0}${path}`,
    box: (script, args = []) =>
      ws.run(['run', '--agent', 'bot', ...args, '--', 'sh', '-c', script], {
        cwd: project,
        env: { HOME: home },
      }),
    stop: async () => {
      await serve.kill()
      await upstream.close()
      await httpsUpstream?.close()
      ws.remove()
    },
  }
}

/** An HTTPS echo upstream with a certificate from its own CA, which the config trusts. */
async function startHttpsUpstream(ws: CliWorkspace): Promise<EchoUpstream> {
  const tls = await createUpstreamTls()
  ws.writeFile('upstream-ca.pem', tls.caPem)
  return startEchoUpstream(tls)
}
