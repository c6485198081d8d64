import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { linesOf, type CliResult } from '../../helpers/cli.js'
import { buildTar } from '../../helpers/tar-builder.js'
import { findExecutable } from '../../../src/sandbox/find-executable.js'
import {
  BUSYBOX,
  SOCAT,
  testLayers,
  writeDockerArchive,
  writeOciLayout,
  type RuntimeConfig,
} from './oci-fixture.js'
import { startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'

const missing = findExecutable('bwrap') === null || !existsSync(BUSYBOX) || !existsSync(SOCAT)
const skip = missing && process.env['CI'] !== 'true'

/** A program on the image's own PATH that reports how the box started it. */
const REPORT = `#!/bin/sh
echo "pwd=$(pwd)"
echo "ids=$(id -u):$(id -g)"
echo "greeting=$GREETING"
echo "proxy=$HTTPS_PROXY"
echo "ca=$SSL_CERT_FILE"
echo "path=$PATH"
echo "args=$*"
`

/** A third layer: the report program, and the image's users and groups. */
function configLayer(): Buffer {
  return buildTar([
    { name: './opt/tools/bin/report', data: REPORT, mode: 0o755 },
    { name: './etc/passwd', data: 'root:x:0:0::/root:/bin/sh\nagent:x:1500:1600::/:/bin/sh\n' },
    { name: './etc/group', data: 'root:x:0:\nstaff:x:50:\nagents:x:1600:\n' },
  ])
}

const BASE: RuntimeConfig = {
  Env: [
    'PATH=/opt/tools/bin:/usr/bin:/bin',
    'GREETING=from-image',
    // Tollgate's own variables win over these.
    'HTTPS_PROXY=http://elsewhere.invalid:9',
    'SSL_CERT_FILE=/image/ca.pem',
  ],
  // Not in any layer: the run creates it as a mount point.
  WorkingDir: '/srv/agent',
  Entrypoint: ['/bin/sh', '-c'],
  Cmd: ['echo cmd-ran; report'],
  User: 'agent:staff',
}

describe('tollgate run --image: the image config is honoured', { skip }, () => {
  let sb: SandboxWorkspace
  const images: Record<string, string> = {}

  const run = (image: string, args: string[] = [], command: string[] = []): Promise<CliResult> =>
    sb.ws.run(['run', '--agent', 'bot', '--image', image, ...args, ...command], {
      cwd: sb.project,
      env: { HOME: sb.home },
    })

  before(async () => {
    sb = await startSandboxWorkspace(({ ws }) => {
      const layers = [...testLayers(), configLayer()]
      images['oci'] = join(ws.dir, 'oci')
      writeOciLayout(images['oci'], layers, BASE)
      images['numeric'] = join(ws.dir, 'numeric.tar')
      writeDockerArchive(images['numeric'], layers, { ...BASE, User: '1234:5678', Cmd: ['report'] })
      images['ghost'] = join(ws.dir, 'ghost')
      writeOciLayout(images['ghost'], layers, { ...BASE, User: 'ghost' })
    })
  })

  after(() => sb.stop())

  test('no command: Entrypoint + Cmd run as User, in WorkingDir, with Env', async () => {
    const result = await run(images['oci'] ?? '')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), [
      'cmd-ran',
      'pwd=/srv/agent',
      'ids=1500:50',
      'greeting=from-image',
      'proxy=http://127.0.0.1:3128',
      'ca=/run/tollgate/ca.pem',
      'path=/opt/tools/bin:/usr/bin:/bin',
      'args=',
    ])
  })

  test('a command after -- replaces Cmd and follows the Entrypoint', async () => {
    const result = await run(images['oci'] ?? '', [], ['--', 'echo given; report one two'])
    assert.equal(result.code, 0, result.stderr)
    const lines = linesOf(result.stdout)
    assert.equal(lines[0], 'given')
    assert.ok(!lines.includes('cmd-ran'))
    assert.ok(lines.includes('args=one two'))
  })

  test('the relay is still the way out for the image user', async () => {
    const url = `http://127.0.0.1:${sb.upstream.port}/open/image-user`
    const script = `wget -S -O /dev/null ${url} 2>&1 | grep -m 1 -o 'HTTP/1.1 [0-9]*'`
    const result = await run(images['oci'] ?? '', [], ['--', script])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), ['HTTP/1.1 200'])
    assert.ok(sb.upstream.received.some((r) => r.url === '/open/image-user'))
  })

  test('--workdir says where to start instead of WorkingDir', async () => {
    const result = await run(images['oci'] ?? '', ['--workdir', sb.project])
    assert.equal(result.code, 0, result.stderr)
    assert.ok(linesOf(result.stdout).includes(`pwd=${sb.project}`), result.stdout)
  })

  test('a numeric User from a docker save config becomes --uid/--gid as given', async () => {
    const result = await run(images['numeric'] ?? '')
    assert.equal(result.code, 0, result.stderr)
    const lines = linesOf(result.stdout)
    // Entrypoint `sh -c` with Cmd `report`: the script runs with no arguments.
    assert.ok(lines.includes('ids=1234:5678'), result.stdout)
    assert.ok(!lines.includes('cmd-ran'))
  })

  test('a User the image does not know stops the run before any box', async () => {
    const before = readdirSync(join(sb.ws.stateDir, 'sandboxes'))
    const result = await run(images['ghost'] ?? '')
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /TOLLGATE_INVALID_ARGUMENT: the image's User names user ghost, which is not in the image's \/etc\/passwd/,
    )
    assert.equal(result.stdout, '')
    assert.deepEqual(readdirSync(join(sb.ws.stateDir, 'sandboxes')), before)
  })

  test('without --image a command is still required', async () => {
    const result = await sb.ws.run(['run', '--agent', 'bot'], {
      cwd: sb.project,
      env: { HOME: sb.home },
    })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TOLLGATE_INVALID_ARGUMENT: no command: give one after --/)
  })
})
