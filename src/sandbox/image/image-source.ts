import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { TollgateError } from '../../errors/tollgate-error.js'
import { parseImageConfig, type ImageConfig } from './image-config.js'
import { readTar } from './tar-reader.js'

/** One layer, read and checked, ready to unpack (uncompressed tar). */
export interface LayerSource {
  digest: string
  read(): Buffer
}

/** An image to unpack: its identity (the cache key) and its layers, bottom first. */
export interface PackedImage {
  /** `sha256:…` of the OCI manifest, or of the config for a `docker save` tarball. */
  digest: string
  layers: LayerSource[]
  /** Env, WorkingDir, Entrypoint, Cmd and User from the image config. */
  config: ImageConfig
}

/** What `--image` names: a root filesystem directory as it is, or an image to unpack. */
export type ImageInput = { kind: 'rootfs'; dir: string } | { kind: 'packed'; image: PackedImage }

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
])

/** Reads `--image PATH`: an OCI image layout directory, a `docker save` tarball or a rootfs. */
export function openImage(path: string): ImageInput {
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat) throw invalid(`no image at ${path}`)
  if (stat.isFile()) return { kind: 'packed', image: openDockerArchive(path) }
  if (existsSync(join(path, 'oci-layout'))) return { kind: 'packed', image: openOciLayout(path) }
  return { kind: 'rootfs', dir: path }
}

function openOciLayout(dir: string): PackedImage {
  const blob = (digest: string) => readBlob(dir, digest)
  const index = parseJson(readFileSync(join(dir, 'index.json')), 'index.json')
  const manifestDescriptor = pickManifest(index, blob)
  const manifest = parseJson(blob(manifestDescriptor.digest), 'manifest')
  const layers = arrayOf(manifest['layers'], 'manifest layers').map((value) => {
    const layer = descriptor(value)
    return { digest: layer.digest, read: () => decompress(blob(layer.digest), layer.mediaType) }
  })
  const configDigest = descriptor(manifest['config']).digest
  const config = parseImageConfig(parseJson(blob(configDigest), 'config'))
  return { digest: manifestDescriptor.digest, layers, config }
}

/** The image manifest for this machine's platform, through nested indexes if need be. */
function pickManifest(
  index: Record<string, unknown>,
  blob: (digest: string) => Buffer,
): { digest: string; mediaType: string } {
  const manifests = arrayOf(index['manifests'], 'index manifests').map(descriptor)
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const chosen =
    manifests.length === 1
      ? manifests[0]
      : manifests.find((m) => m.platform?.['os'] === 'linux' && m.platform['architecture'] === arch)
  if (!chosen) throw invalid(`no manifest for linux/${arch} in the image index`)
  if (!INDEX_TYPES.has(chosen.mediaType)) return chosen
  return pickManifest(parseJson(blob(chosen.digest), 'index'), blob)
}

interface Descriptor {
  digest: string
  mediaType: string
  platform?: Record<string, unknown>
}

function descriptor(value: unknown): Descriptor {
  const record = value as Record<string, unknown> | null
  const digest = record?.['digest']
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw invalid(`unsupported or missing digest: ${String(digest)}`)
  }
  const mediaType = typeof record?.['mediaType'] === 'string' ? record['mediaType'] : ''
  const platform = record?.['platform']
  return typeof platform === 'object' && platform !== null
    ? { digest, mediaType, platform: platform as Record<string, unknown> }
    : { digest, mediaType }
}

/** A blob of an OCI layout, refused unless its content has the digest it is named by. */
function readBlob(dir: string, digest: string): Buffer {
  const hex = digest.slice('sha256:'.length)
  const data = readFileSync(join(dir, 'blobs', 'sha256', hex))
  checkDigest(data, digest, `blob ${digest}`)
  return data
}

function decompress(data: Buffer, mediaType: string): Buffer {
  if (mediaType.endsWith('+zstd')) throw invalid('zstd-compressed layers are not supported yet')
  return data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data
}

/**
 * A `docker save` tarball: manifest.json names the config and the layer tarballs; each layer
 * (uncompressed) must hash to the config's `rootfs.diff_ids` entry at the same position.
 */
function openDockerArchive(path: string): PackedImage {
  const members = new Map<string, Buffer>()
  try {
    // `docker save | gzip` is common; the tarball itself may be compressed.
    for (const entry of readTar(decompress(readFileSync(path), ''))) {
      if (entry.type === '0' || entry.type === '7') members.set(normalize(entry.name), entry.data)
    }
  } catch (error) {
    throw invalid(
      `${path} is neither an image directory nor a docker save tarball: ${message(error)}`,
    )
  }
  const member = (name: string) => {
    const data = members.get(normalize(name))
    if (!data) throw invalid(`${path}: no ${name} in the archive`)
    return data
  }
  const manifests = arrayOf(parseJson(member('manifest.json'), 'manifest.json'), 'manifest.json')
  if (manifests.length !== 1) throw invalid(`${path} holds ${manifests.length} images, not 1`)
  const manifest = manifests[0] as Record<string, unknown>
  const configName = String(manifest['Config'])
  const configData = member(configName)
  const digest = `sha256:${sha256(configData)}`
  const named = /([0-9a-f]{64})(\.json)?$/.exec(configName)?.[1]
  if (named !== undefined && `sha256:${named}` !== digest) {
    throw invalid(`${path}: the config ${configName} does not match its digest`)
  }
  const config = parseJson(configData, 'config')
  const rootfs = config['rootfs'] as Record<string, unknown> | undefined
  const diffIds = arrayOf(rootfs?.['diff_ids'], 'config rootfs.diff_ids')
  const layerNames = arrayOf(manifest['Layers'], 'manifest Layers')
  if (diffIds.length !== layerNames.length) throw invalid(`${path}: layer count mismatch`)
  const layers = layerNames.map((name, i) => {
    const diffId = String(diffIds[i])
    return {
      digest: diffId,
      read: () => {
        const tar = decompress(member(String(name)), '')
        checkDigest(tar, diffId, `layer ${String(name)}`)
        return tar
      },
    }
  })
  return { digest, layers, config: parseImageConfig(config) }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function normalize(name: string): string {
  return name.replace(/^\.\//, '')
}

function checkDigest(data: Buffer, digest: string, what: string): void {
  if (`sha256:${sha256(data)}` !== digest) {
    throw invalid(`${what} does not match its digest ${digest}`)
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function parseJson(data: Buffer, what: string): Record<string, unknown> {
  try {
    return JSON.parse(data.toString('utf8')) as Record<string, unknown>
  } catch {
    throw invalid(`the image's ${what} is not JSON`)
  }
}

function arrayOf(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`the image has no ${what}`)
  return value
}

function invalid(message: string): TollgateError {
  return new TollgateError('TOLLGATE_INVALID_ARGUMENT', message)
}
