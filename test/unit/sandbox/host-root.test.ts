import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hiddenEntries, readHostRoot } from '../../../src/sandbox/host-root.js'

const dir = mkdtempSync(join(tmpdir(), 'tollgate-host-root-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('hiddenEntries', () => {
  test('lists what others may not read, without looking into hidden directories', () => {
    const etc = join(dir, 'etc')
    const file = (path: string, mode: number) => {
      writeFileSync(join(etc, path), 'x')
      chmodSync(join(etc, path), mode)
    }
    mkdirSync(join(etc, 'ssl', 'private'), { recursive: true })
    mkdirSync(join(etc, 'open'))
    mkdirSync(join(etc, 'traverse-only'))
    file('passwd', 0o644)
    file('shadow', 0o640)
    file('ssl/private/key.pem', 0o644)
    file('open/secret.conf', 0o600)
    file('open/public.conf', 0o444)
    file('traverse-only/known-name', 0o644)
    chmodSync(join(etc, 'ssl', 'private'), 0o700)
    chmodSync(join(etc, 'traverse-only'), 0o711)
    // A link to a hidden file is not hidden itself: its target is.
    symlinkSync('shadow', join(etc, 'shadow-link'))

    assert.deepEqual(hiddenEntries(etc), [
      { path: join(etc, 'open', 'secret.conf'), kind: 'file' },
      { path: join(etc, 'shadow'), kind: 'file' },
      { path: join(etc, 'ssl', 'private'), kind: 'directory' },
      { path: join(etc, 'traverse-only'), kind: 'directory' },
    ])
  })

  test('is empty for a directory that does not exist', () => {
    assert.deepEqual(hiddenEntries(join(dir, 'missing')), [])
  })

  test('on this host, /etc/shadow is hidden unless every user may read it', () => {
    const { hidden } = readHostRoot()
    for (const entry of hidden) assert.ok(entry.path.startsWith('/etc/'), entry.path)
    const isHidden = hidden.some((entry) => entry.path === '/etc/shadow')
    const isPublic = !existsSync('/etc/shadow') || (statSync('/etc/shadow').mode & 0o004) !== 0
    assert.equal(isHidden, !isPublic)
  })
})
