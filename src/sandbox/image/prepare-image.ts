import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { TollgateError } from '../../errors/tollgate-error.js'
import { applyLayer } from './apply-layer.js'
import { EMPTY_IMAGE_CONFIG, type ImageConfig } from './image-config.js'
import { openImage, type PackedImage } from './image-source.js'
import { entryParts, resolveInRoot, UnsafeEntryError } from './safe-path.js'
import { readTar } from './tar-reader.js'

/** Mount points every box needs; an unpacked image gets them (bwrap cannot create them in a
 * read-only root). */
const MOUNT_POINTS = ['proc', 'dev', 'tmp', 'run', 'sys']

/** An image ready to be a box's root. */
export interface PreparedImage {
  dir: string
  /** Whether Tollgate unpacked it (and may add mount points), not a directory given as is. */
  unpacked: boolean
  /** The image config's runtime fields; empty for a plain directory, which has none. */
  config: ImageConfig
}

/**
 * The root filesystem directory for `--image PATH`. A plain directory is used as it is; an OCI
 * layout or a `docker save` tarball is unpacked once into `<stateDir>/images/<digest>/rootfs`
 * (0700), layer digests checked, and reused by later runs of the same image.
 */
export function prepareImage(path: string, stateDir: string): PreparedImage {
  const input = openImage(resolve(path))
  if (input.kind === 'rootfs')
    return { dir: input.dir, unpacked: false, config: EMPTY_IMAGE_CONFIG }
  const dir = unpackImage(input.image, join(stateDir, 'images'))
  return { dir, unpacked: true, config: input.image.config }
}

function unpackImage(image: PackedImage, cacheRoot: string): string {
  const dir = join(cacheRoot, image.digest.replace(':', '-'))
  const rootfs = join(dir, 'rootfs')
  if (existsSync(rootfs)) return rootfs
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // Unpack beside it and rename: a half-unpacked image is never taken for a complete one.
  const partial = join(dir, `rootfs.partial-${randomBytes(4).toString('hex')}`)
  mkdirSync(partial, { mode: 0o700 })
  try {
    for (const layer of image.layers) applyLayer(partial, readTar(layer.read()))
    for (const name of MOUNT_POINTS) mkdirSync(join(partial, name), { recursive: true })
    renameSync(partial, rootfs)
  } catch (error) {
    rmSync(partial, { recursive: true, force: true })
    if (error instanceof UnsafeEntryError) {
      throw new TollgateError('TOLLGATE_INVALID_ARGUMENT', `unsafe image: ${error.message}`)
    }
    throw error
  }
  return rootfs
}

/**
 * Creates the mount points for the host paths the box binds (`$HOME`, the working directory)
 * inside an unpacked image, resolved inside it like layer entries.
 */
export function addMountPoints(rootfs: string, paths: readonly string[]): void {
  for (const path of paths) {
    mkdirSync(resolveInRoot(rootfs, entryParts(path.replace(/^\/+/, '')), true), {
      recursive: true,
    })
  }
}
