import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildTar, type TarMember } from '../../helpers/tar-builder.js'

/** Where the test image's first layer takes its programs from on the host. */
export const BUSYBOX = '/bin/busybox'
export const SOCAT = '/usr/bin/socat'
export const IMAGE_MARKER = 'tollgate-test-image-1'

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/**
 * The two layers of the test image. Layer 1: a static busybox (sh, grep, sleep, wget, ...), the
 * host's socat with the shared libraries `ldd` lists, a marker file, a file and a directory for
 * layer 2 to hide. Layer 2: a whiteout for the file, an opaque directory, a second marker.
 */
export function testLayers(): [Buffer, Buffer] {
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n')
  const lower: TarMember[] = [
    { name: './bin/', type: 'dir' },
    { name: './bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 },
    ...applets
      .filter((name) => /^[a-z0-9[._-]+$/.test(name) && name !== 'busybox')
      .map((name): TarMember => ({ name: `./bin/${name}`, type: 'symlink', link: 'busybox' })),
    { name: './usr/bin/socat', data: readFileSync(SOCAT), mode: 0o755 },
    ...sharedLibraries(SOCAT).map((path): TarMember => ({
      name: `.${path}`,
      data: readFileSync(path),
      mode: 0o755,
    })),
    { name: './etc/os-release-marker', data: `${IMAGE_MARKER}\n` },
    { name: './etc/doomed', data: 'from layer 1\n' },
    { name: './etc/opq/lower', data: 'from layer 1\n' },
  ]
  const upper: TarMember[] = [
    { name: './etc/.wh.doomed' },
    { name: './etc/opq/.wh..wh..opq' },
    { name: './etc/opq/upper', data: 'from layer 2\n' },
    { name: './etc/layer2', data: 'layer 2 was applied\n' },
  ]
  return [buildTar(lower), buildTar(upper)]
}

/** The absolute paths of the shared libraries (and loader) `ldd` lists for a program. */
function sharedLibraries(program: string): string[] {
  const out = spawnSync('ldd', [program], { encoding: 'utf8' }).stdout
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((match) => match[1] as string)
}

const blobDesc = (mediaType: string, data: Buffer) => ({
  mediaType,
  digest: `sha256:${sha256(data)}`,
  size: data.length,
})

/** The runtime part of an image config (`Env`, `Entrypoint`, `Cmd`, `User`, `WorkingDir`). */
export type RuntimeConfig = Record<string, unknown>

function imageConfig(layers: Buffer[], runtime: RuntimeConfig): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: runtime,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha256(l)}`) },
    }),
  )
}

/**
 * Writes an OCI image layout of `layers` (the second one gzip-compressed) to `dir`; returns
 * the manifest digest, the image's cache key.
 */
export function writeOciLayout(dir: string, layers: Buffer[], runtime: RuntimeConfig = {}): string {
  const blobs = join(dir, 'blobs', 'sha256')
  mkdirSync(blobs, { recursive: true })
  const put = (data: Buffer) => writeFileSync(join(blobs, sha256(data)), data)
  const config = imageConfig(layers, runtime)
  put(config)
  const layerDescs = layers.map((layer, i) => {
    const blob = i === 0 ? layer : gzipSync(layer)
    put(blob)
    const type = i === 0 ? 'tar' : 'tar+gzip'
    return blobDesc(`application/vnd.oci.image.layer.v1.${type}`, blob)
  })
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: blobDesc('application/vnd.oci.image.config.v1+json', config),
      layers: layerDescs,
    }),
  )
  put(manifest)
  const index = {
    schemaVersion: 2,
    manifests: [blobDesc('application/vnd.oci.image.manifest.v1+json', manifest)],
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index))
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  return `sha256:${sha256(manifest)}`
}

/** Writes a `docker save`-style tarball (legacy layout: `<id>/layer.tar`) of `layers`. */
export function writeDockerArchive(
  path: string,
  layers: Buffer[],
  runtime: RuntimeConfig = {},
): void {
  const config = imageConfig(layers, runtime)
  const configName = `${sha256(config)}.json`
  const layerNames = layers.map((layer) => `${sha256(layer)}/layer.tar`)
  const manifest = [{ Config: configName, RepoTags: ['tollgate/test:1'], Layers: layerNames }]
  writeFileSync(
    path,
    buildTar([
      { name: configName, data: config },
      ...layers.map((layer, i): TarMember => ({ name: layerNames[i] as string, data: layer })),
      { name: 'manifest.json', data: JSON.stringify(manifest) },
    ]),
  )
}
