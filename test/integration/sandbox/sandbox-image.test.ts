import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js'
import {
  createWorkspace,
  linesOf,
  type CliResult,
  type CliWorkspace,
  type ServeProcess,
} from '../../helpers/cli.js'
import { buildTar } from '../../helpers/tar-builder.js'
import { cliTestConfig } from '../cli/cli-config.js'
import { findExecutable } from '../../../src/sandbox/find-executable.js'
import {
  BUSYBOX,
  IMAGE_MARKER,
  SOCAT,
  testLayers,
  writeDockerArchive,
  writeOciLayout,
} from './oci-fixture.js'

// Real bubblewrap, busybox-static and socat (.ci/run installs them) or, off CI, a skip.
const missing = findExecutable('bwrap') === null || !existsSync(BUSYBOX) || !existsSync(SOCAT)
const skip = missing && process.env['CI'] !== 'true'

/** The blob file name (hex digest) of layer `i` of the only manifest of an OCI layout. */
function gzippedName(layout: string, i: number): string {
  const blobs = join(layout, 'blobs', 'sha256')
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string }>
  }
  const hex = (digest: string | undefined) => (digest ?? '').slice('sha256:'.length)
  const manifest = JSON.parse(
    readFileSync(join(blobs, hex(index.manifests[0]?.digest)), 'utf8'),
  ) as {
    layers: Array<{ digest: string }>
  }
  return hex(manifest.layers[i]?.digest)
}

describe('tollgate run --image: OCI layouts and docker save tarballs', { skip }, () => {
  let ws: CliWorkspace
  let upstream: EchoUpstream
  let serve: ServeProcess
  let project: string
  let home: string
  let layout: string
  let archive: string
  let digest: string

  const box = (image: string, script: string): Promise<CliResult> =>
    ws.run(['run', '--agent', 'bot', '--image', image, '--', 'sh', '-c', script], {
      cwd: project,
      env: { HOME: home },
    })
  const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`
  // busybox wget: -S prints the status line; the first one is the relay's answer.
  const status = (path: string) =>
    `wget -S -O /dev/null ${url(path)} 2>&1 | grep -m 1 -o 'HTTP/1.1 [0-9]*'`

  /** What the image looks like from inside, one fact per line. */
  const probe = [
    'cat /etc/os-release-marker',
    'cat /etc/layer2',
    '[ -e /etc/doomed ] && echo doomed-present || echo doomed-gone',
    'echo "opq=$(ls /etc/opq | tr "\\n" " ")"',
    '[ -e /usr/bin/node ] && echo host-visible || echo host-hidden',
  ].join('; ')

  before(async () => {
    upstream = await startEchoUpstream()
    ws = createWorkspace()
    ws.writeConfig(cliTestConfig({ http: upstream.port }))
    project = join(ws.dir, 'project')
    home = join(ws.dir, 'home')
    mkdirSync(project)
    mkdirSync(home)
    const layers = testLayers()
    layout = join(ws.dir, 'oci')
    digest = writeOciLayout(layout, layers)
    archive = join(ws.dir, 'image.tar')
    writeDockerArchive(archive, layers)
    serve = await ws.serve()
  })

  after(async () => {
    await serve.kill()
    await upstream.close()
    ws.remove()
  })

  test('an OCI layout runs with its layers and whiteouts applied, not the host', async () => {
    const result = await box(layout, probe)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), [
      IMAGE_MARKER,
      'layer 2 was applied',
      'doomed-gone',
      'opq=upper ',
      'host-hidden',
    ])
  })

  test('it is unpacked once into <stateDir>/images/<digest>/rootfs, 0700', () => {
    const rootfs = join(ws.stateDir, 'images', digest.replace(':', '-'), 'rootfs')
    assert.equal(statSync(rootfs).mode & 0o777, 0o700)
    assert.equal(readFileSync(join(rootfs, 'etc/os-release-marker'), 'utf8'), `${IMAGE_MARKER}\n`)
    assert.ok(!existsSync(join(rootfs, 'etc/doomed')))
  })

  test('the relay is still the only way out of an image box', async () => {
    const script = [
      status('/open/from-image'),
      status('/admin/from-image'),
      `wget -q -Y off -T 5 -O /dev/null ${url('/open/direct-image')}; echo "direct=$?"`,
    ].join('; ')
    const result = await box(layout, script)
    assert.equal(result.code, 0, result.stderr)
    const [allowed, forbidden, direct] = linesOf(result.stdout)
    assert.equal(allowed, 'HTTP/1.1 200')
    assert.equal(forbidden, 'HTTP/1.1 403')
    assert.match(direct ?? '', /^direct=\d+$/)
    assert.notEqual(direct, 'direct=0')
    assert.ok(upstream.received.some((r) => r.url === '/open/from-image'))
    assert.ok(!upstream.received.some((r) => r.url === '/admin/from-image'))
    assert.ok(!upstream.received.some((r) => r.url === '/open/direct-image'))
  })

  test('a docker save tarball of the same layers runs the same', async () => {
    const result = await box(archive, probe)
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(linesOf(result.stdout), [
      IMAGE_MARKER,
      'layer 2 was applied',
      'doomed-gone',
      'opq=upper ',
      'host-hidden',
    ])
  })

  test('a layer that does not match its digest is refused before any box starts', async () => {
    const tampered = join(ws.dir, 'tampered')
    // A third layer makes this a different image (not served from the cache); then its blob
    // gets other content of the same length behind the same name.
    const third = buildTar([{ name: './etc/third', data: 'original' }])
    const tamperedDigest = writeOciLayout(tampered, [...testLayers(), third])
    const blob = join(tampered, 'blobs', 'sha256', gzippedName(tampered, 2))
    const content = gunzipSync(readFileSync(blob))
    content.write('ORIGINAL', content.indexOf('original'))
    writeFileSync(blob, gzipSync(content))

    const sandboxesBefore = readdirSync(join(ws.stateDir, 'sandboxes'))
    const result = await box(tampered, 'echo ran')
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TOLLGATE_INVALID_ARGUMENT: blob sha256:[0-9a-f]+ does not match/)
    assert.ok(!result.stdout.includes('ran'))
    assert.ok(!existsSync(join(ws.stateDir, 'images', tamperedDigest.replace(':', '-'), 'rootfs')))
    // Earlier runs' output logs stay; no new sandbox was registered.
    assert.deepEqual(readdirSync(join(ws.stateDir, 'sandboxes')), sandboxesBefore)
  })
})
