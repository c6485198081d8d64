import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyLayer } from '../../../../src/sandbox/image/apply-layer.js'
import {
  entryParts,
  resolveInRoot,
  UnsafeEntryError,
} from '../../../../src/sandbox/image/safe-path.js'
import { readTar } from '../../../../src/sandbox/image/tar-reader.js'
import { buildTar, type TarMember } from '../../../helpers/tar-builder.js'

describe('image layers: tar reading, whiteouts and path safety', () => {
  let dir: string
  let n = 0
  /** A fresh root (inside a fresh parent, so "outside the root" is observable). */
  const freshRoot = () => {
    const parent = join(dir, `case-${++n}`)
    mkdirSync(join(parent, 'root'), { recursive: true })
    return { parent, root: join(parent, 'root') }
  }
  const apply = (root: string, members: TarMember[]) => applyLayer(root, readTar(buildTar(members)))

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-layers-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('entry names: ./ prefixes dropped; absolute names and .. refused', () => {
    assert.deepEqual(entryParts('./usr/bin/sh'), ['usr', 'bin', 'sh'])
    assert.deepEqual(entryParts('etc/'), ['etc'])
    assert.throws(() => entryParts('/etc/passwd'), UnsafeEntryError)
    assert.throws(() => entryParts('usr/../../etc/passwd'), UnsafeEntryError)
    assert.throws(() => entryParts('..'), UnsafeEntryError)
  })

  test('the reader agrees with GNU tar on names, types, modes and contents', () => {
    const { parent } = freshRoot()
    const src = join(parent, 'src')
    mkdirSync(join(src, 'd'), { recursive: true })
    writeFileSync(join(src, 'd', 'f.txt'), 'hello', { mode: 0o640 })
    const long = 'x'.repeat(150)
    writeFileSync(join(src, long), 'long')
    const tarFile = join(parent, 'gnu.tar')
    const made = spawnSync('tar', ['-cf', tarFile, '-C', src, '.'])
    assert.equal(made.status, 0, String(made.stderr))
    const entries = [...readTar(readFileSync(tarFile))]
    const file = entries.find((e) => e.name === './d/f.txt')
    assert.equal(file?.type, '0')
    assert.equal(file?.mode, 0o640)
    assert.equal(file?.data.toString(), 'hello')
    assert.equal(entries.find((e) => e.name === `./${long}`)?.data.toString(), 'long')
    assert.equal(entries.find((e) => e.name === './d/')?.type, '5')
  })

  test('a PAX long name round-trips', () => {
    const name = `a/${'b'.repeat(120)}`
    const [entry] = [...readTar(buildTar([{ name, data: 'x' }]))]
    assert.equal(entry?.name, name)
  })

  test('files, directories and symlinks are unpacked; later layers replace earlier ones', () => {
    const { root } = freshRoot()
    apply(root, [
      { name: './etc/', type: 'dir' },
      { name: './etc/marker', data: 'one' },
      { name: './bin/tool', data: '#!', mode: 0o755 },
      { name: './bin/alias', type: 'symlink', link: 'tool' },
      { name: './bin/hard', type: 'hardlink', link: './bin/tool' },
    ])
    apply(root, [{ name: 'etc/marker', data: 'two' }])
    assert.equal(readFileSync(join(root, 'etc/marker'), 'utf8'), 'two')
    assert.equal(lstatSync(join(root, 'bin/tool')).mode & 0o777, 0o755)
    assert.equal(readlinkSync(join(root, 'bin/alias')), 'tool')
    assert.equal(lstatSync(join(root, 'bin/hard')).ino, lstatSync(join(root, 'bin/tool')).ino)
  })

  test('.wh.NAME deletes NAME (a file or a whole tree) from the layers below', () => {
    const { root } = freshRoot()
    apply(root, [
      { name: 'etc/doomed', data: 'x' },
      { name: 'etc/kept', data: 'y' },
      { name: 'var/tree/', type: 'dir' },
      { name: 'var/tree/deep/file', data: 'z' },
    ])
    apply(root, [
      { name: 'etc/.wh.doomed', data: '' },
      { name: 'var/.wh.tree', data: '' },
    ])
    assert.deepEqual(readdirSync(join(root, 'etc')), ['kept'])
    assert.deepEqual(readdirSync(join(root, 'var')), [])
  })

  test('.wh..wh..opq empties its directory of lower layers only', () => {
    const { root } = freshRoot()
    apply(root, [
      { name: 'opt/a', data: 'lower' },
      { name: 'opt/sub/b', data: 'lower' },
    ])
    // This layer's own entry comes first: the marker must not delete it.
    apply(root, [
      { name: 'opt/c', data: 'upper' },
      { name: 'opt/.wh..wh..opq', data: '' },
      { name: 'opt/d', data: 'upper' },
    ])
    assert.deepEqual(readdirSync(join(root, 'opt')).sort(), ['c', 'd'])
  })

  test('absolute and .. entries are refused and write nothing outside the root', () => {
    const { parent, root } = freshRoot()
    assert.throws(() => apply(root, [{ name: '../escaped', data: 'x' }]), UnsafeEntryError)
    assert.throws(() => apply(root, [{ name: `${parent}/abs`, data: 'x' }]), UnsafeEntryError)
    assert.throws(() => apply(root, [{ name: 'a/../../escaped', data: 'x' }]), UnsafeEntryError)
    assert.deepEqual(readdirSync(parent).sort(), ['root'])
  })

  test('a symlink cannot carry a later entry out of the root', () => {
    const { parent, root } = freshRoot()
    // A relative link climbing above the root: refused when an entry goes through it.
    assert.throws(
      () =>
        apply(root, [
          { name: 'up', type: 'symlink', link: '../..' },
          { name: 'up/escaped', data: 'x' },
        ]),
      UnsafeEntryError,
    )
    // An absolute link means the image's own directory, never the host's.
    apply(root, [
      { name: 'etc/', type: 'dir' },
      { name: 'hostetc', type: 'symlink', link: parent },
      { name: 'hostetc/planted', data: 'x' },
      { name: 'sys', type: 'symlink', link: '/etc' },
      { name: 'sys/via-link', data: 'y' },
    ])
    assert.deepEqual(readdirSync(parent).sort(), ['root'])
    assert.ok(existsSync(join(root, parent, 'planted')), 'the absolute link stays in the root')
    assert.equal(readFileSync(join(root, 'etc/via-link'), 'utf8'), 'y')
    // A whiteout through a link deletes inside the root only.
    writeFileSync(join(parent, 'precious'), 'keep')
    apply(root, [{ name: 'hostetc/.wh.precious', data: '' }])
    assert.equal(readFileSync(join(parent, 'precious'), 'utf8'), 'keep')
  })

  test('a hard link to something outside the root is refused', () => {
    const { root } = freshRoot()
    assert.throws(
      () => apply(root, [{ name: 'steal', type: 'hardlink', link: '../../../etc/passwd' }]),
      UnsafeEntryError,
    )
    assert.ok(!existsSync(join(root, 'steal')))
  })

  test('resolveInRoot follows links in the image the way the box will', () => {
    const { root } = freshRoot()
    apply(root, [
      { name: 'usr/bin/', type: 'dir' },
      { name: 'bin', type: 'symlink', link: 'usr/bin' },
    ])
    assert.equal(resolveInRoot(root, ['bin', 'sh']), join(root, 'usr/bin/sh'))
    assert.equal(resolveInRoot(root, ['bin']), join(root, 'bin'))
    assert.equal(resolveInRoot(root, ['bin'], true), join(root, 'usr/bin'))
  })
})
