import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  boxCommand,
  EMPTY_IMAGE_CONFIG,
  imageEnv,
  parseImageConfig,
} from '../../../../src/sandbox/image/image-config.js'
import { resolveImageUser } from '../../../../src/sandbox/image/image-user.js'

describe('parseImageConfig', () => {
  test('reads Env, WorkingDir, Entrypoint, Cmd and User from the config section', () => {
    const config = parseImageConfig({
      architecture: 'amd64',
      config: {
        Env: ['PATH=/app/bin:/bin', 'A=1=2'],
        WorkingDir: '/app',
        Entrypoint: ['/app/run'],
        Cmd: ['--serve'],
        User: '1000:1000',
        ExposedPorts: { '80/tcp': {} },
      },
    })
    assert.deepEqual(config, {
      env: ['PATH=/app/bin:/bin', 'A=1=2'],
      workingDir: '/app',
      entrypoint: ['/app/run'],
      cmd: ['--serve'],
      user: '1000:1000',
    })
  })

  test('a config without the section, or with nulls and empty strings, says nothing', () => {
    assert.deepEqual(parseImageConfig({ rootfs: {} }), EMPTY_IMAGE_CONFIG)
    const nulls = { config: { Env: null, Entrypoint: null, Cmd: null, User: '', WorkingDir: '' } }
    assert.deepEqual(parseImageConfig(nulls), EMPTY_IMAGE_CONFIG)
  })

  test('malformed fields are refused, naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ Env: 'A=1' }, /Env/],
      [{ Env: ['NOEQUALS'] }, /Env/],
      [{ Cmd: [1, 2] }, /Cmd/],
      [{ Entrypoint: 'sh -c x' }, /Entrypoint/],
      [{ WorkingDir: 'relative' }, /WorkingDir/],
      [{ User: 0 }, /User/],
    ]
    for (const [section, pattern] of cases) {
      assert.throws(() => parseImageConfig({ config: section }), pattern)
    }
  })
})

describe('imageEnv', () => {
  test('a later entry for a name wins; values may contain =', () => {
    const env = imageEnv({ ...EMPTY_IMAGE_CONFIG, env: ['A=1', 'B=x=y', 'A=2'] })
    assert.deepEqual(env, { A: '2', B: 'x=y' })
  })
})

describe('boxCommand, as Docker decides it', () => {
  const config = { ...EMPTY_IMAGE_CONFIG, entrypoint: ['/bin/tini', '--'], cmd: ['serve'] }

  test('no command: Entrypoint then Cmd', () => {
    assert.deepEqual(boxCommand(config, []), ['/bin/tini', '--', 'serve'])
  })

  test('a command replaces Cmd and follows the Entrypoint', () => {
    assert.deepEqual(boxCommand(config, ['sh', '-c', 'x']), ['/bin/tini', '--', 'sh', '-c', 'x'])
  })

  test('without an Entrypoint the command or Cmd runs alone; nothing at all is refused', () => {
    const cmdOnly = { ...EMPTY_IMAGE_CONFIG, cmd: ['/bin/sh'] }
    assert.deepEqual(boxCommand(cmdOnly, []), ['/bin/sh'])
    assert.deepEqual(boxCommand(cmdOnly, ['true']), ['true'])
    assert.throws(() => boxCommand(EMPTY_IMAGE_CONFIG, []), /no command/)
  })
})

describe('resolveImageUser', () => {
  const rootfs = mkdtempSync(join(tmpdir(), 'tollgate-image-user-'))
  after(() => rmSync(rootfs, { recursive: true, force: true }))
  mkdirSync(join(rootfs, 'etc'))
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\n# comment\nagent:x:1500:1600::/home/agent:/bin/sh\n',
  )
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nstaff:x:50:\nagents:x:1600:\n')

  test('numbers are taken as they are; a bare uid takes its passwd group, else 0', () => {
    assert.deepEqual(resolveImageUser(rootfs, '1234:5678'), { uid: 1234, gid: 5678 })
    assert.deepEqual(resolveImageUser(rootfs, '1500'), { uid: 1500, gid: 1600 })
    assert.deepEqual(resolveImageUser(rootfs, '4242'), { uid: 4242, gid: 0 })
  })

  test("names are looked up in the image's /etc/passwd and /etc/group", () => {
    assert.deepEqual(resolveImageUser(rootfs, 'agent'), { uid: 1500, gid: 1600 })
    assert.deepEqual(resolveImageUser(rootfs, 'agent:staff'), { uid: 1500, gid: 50 })
    assert.deepEqual(resolveImageUser(rootfs, '1500:staff'), { uid: 1500, gid: 50 })
  })

  test('an unknown user or group, or an id out of range, is refused', () => {
    assert.throws(() => resolveImageUser(rootfs, 'nobody'), /user nobody.*\/etc\/passwd/)
    assert.throws(() => resolveImageUser(rootfs, 'agent:wheel'), /group wheel.*\/etc\/group/)
    assert.throws(() => resolveImageUser(rootfs, '4294967295'), /not valid/)
    assert.throws(() => resolveImageUser(rootfs, ':50'), /TOLLGATE|not in/)
  })

  test("a passwd that is a symlink out of the image is read inside it, never the host's", () => {
    const escaping = mkdtempSync(join(tmpdir(), 'tollgate-image-user-'))
    after(() => rmSync(escaping, { recursive: true, force: true }))
    mkdirSync(join(escaping, 'etc'))
    // /etc/passwd on the host has root; inside this image the link resolves to nothing.
    symlinkSync('/etc/passwd', join(escaping, 'etc', 'passwd'))
    assert.throws(() => resolveImageUser(escaping, 'root'), /user root/)
  })
})
