import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { CredentialConfig } from '../../../src/config/types.js'
import { checkWorkdir, isWithin, placeholderEnv } from '../../../src/sandbox/run-options.js'
import { parseCount, parseSeconds, parseSize } from '../../../src/sandbox/sandbox-limits.js'

const credentials: CredentialConfig[] = [
  {
    name: 'openai',
    secret: 'openai-key',
    hosts: ['api.openai.com'],
    inject: { kind: 'placeholder', placeholder: 'tg-openai-0001' },
  },
  {
    name: 'github',
    secret: 'gh',
    hosts: ['api.github.com'],
    inject: { kind: 'header', header: 'Authorization', format: 'token {secret}' },
  },
]

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return 'no error'
}

describe('placeholderEnv', () => {
  test('maps NAME=CREDENTIAL to the placeholder, never the secret name', () => {
    assert.deepEqual(placeholderEnv(['OPENAI_API_KEY=openai'], credentials), {
      OPENAI_API_KEY: 'tg-openai-0001',
    })
  })

  test('refuses unknown credentials, non-placeholder ones and malformed entries', () => {
    assert.equal(
      codeOf(() => placeholderEnv(['X=nope'], credentials)),
      'TOLLGATE_NOT_FOUND',
    )
    assert.equal(
      codeOf(() => placeholderEnv(['GH=github'], credentials)),
      'TOLLGATE_INVALID_ARGUMENT',
    )
    for (const bad of ['openai', '=openai', '1X=openai', 'A-B=openai']) {
      assert.equal(
        codeOf(() => placeholderEnv([bad], credentials)),
        'TOLLGATE_INVALID_ARGUMENT',
        bad,
      )
    }
  })
})

describe('checkWorkdir', () => {
  test('a project directory is shared', () => {
    assert.equal(
      checkWorkdir('/home/alice/project/', '/home/alice', '/var/lib/tollgate'),
      '/home/alice/project',
    )
  })

  test('the home directory or one of its parents is refused', () => {
    for (const dir of ['/home/alice', '/home', '/']) {
      assert.equal(
        codeOf(() => checkWorkdir(dir, '/home/alice', '/var/lib/tollgate')),
        'TOLLGATE_INVALID_ARGUMENT',
        dir,
      )
    }
  })

  test('a directory overlapping the state directory is refused', () => {
    for (const dir of ['/srv/app', '/srv/app/.tollgate', '/srv/app/.tollgate/sandboxes']) {
      assert.equal(
        codeOf(() => checkWorkdir(dir, '/home/alice', '/srv/app/.tollgate')),
        'TOLLGATE_INVALID_ARGUMENT',
        dir,
      )
    }
  })

  test('isWithin does not confuse sibling prefixes', () => {
    assert.equal(isWithin('/home/alice2', '/home/alice'), false)
    assert.equal(isWithin('/home/alice/x', '/home/alice'), true)
  })
})

describe('limits', () => {
  test('sizes, durations and counts parse; nonsense is refused', () => {
    assert.equal(parseSize('512m'), 512 * 1024 * 1024)
    assert.equal(parseSize('2G'), 2 * 1024 ** 3)
    assert.equal(parseSize('4096'), 4096)
    assert.equal(parseSeconds('90'), 90)
    assert.equal(parseSeconds('10m'), 600)
    assert.equal(parseCount('64'), 64)
    for (const bad of ['', '0', '-1', '1.5g', '12x', 'lots']) {
      assert.equal(
        codeOf(() => parseSize(bad)),
        'TOLLGATE_INVALID_ARGUMENT',
        bad,
      )
    }
    assert.equal(
      codeOf(() => parseSeconds('1d')),
      'TOLLGATE_INVALID_ARGUMENT',
    )
    assert.equal(
      codeOf(() => parseCount('0')),
      'TOLLGATE_INVALID_ARGUMENT',
    )
  })
})
