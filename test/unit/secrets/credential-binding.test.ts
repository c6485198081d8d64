import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CredentialConfig, CredentialInjection } from '../../../src/config/types.js'
import {
  findPlaceholders,
  isHostBound,
  percentDecode,
} from '../../../src/secrets/credential-binding.js'

function credential(name: string, hosts: string[], inject: CredentialInjection): CredentialConfig {
  return { name, secret: name, hosts, inject }
}

const openai = credential('openai', ['api.openai.com'], {
  kind: 'placeholder',
  placeholder: 'TG_OPENAI',
})
const github = credential('github', ['*.github.com'], { kind: 'placeholder', placeholder: 'TG_GH' })
const header = credential('header', ['x.com'], {
  kind: 'header',
  header: 'x-api-key',
  format: 'TG_OPENAI {secret}',
})
const all = [openai, github, header]

describe('isHostBound', () => {
  test('matches exact hosts, ignoring case and a trailing dot', () => {
    assert.ok(isHostBound(openai, 'api.openai.com'))
    assert.ok(isHostBound(openai, 'API.OpenAI.com.'))
    assert.ok(!isHostBound(openai, 'openai.com'))
    assert.ok(!isHostBound(openai, 'api.openai.com.evil.net'))
    assert.ok(!isHostBound(openai, 'evilapi.openai.com'))
  })

  test('*.suffix matches hosts below the suffix, not the suffix itself', () => {
    assert.ok(isHostBound(github, 'api.github.com'))
    assert.ok(isHostBound(github, 'a.b.github.com'))
    assert.ok(!isHostBound(github, 'github.com'))
    assert.ok(!isHostBound(github, 'evilgithub.com'))
    assert.ok(!isHostBound(github, '.github.com'))
  })

  test('a bare * binds nothing, and an empty host is never bound', () => {
    const star = credential('star', ['*'], { kind: 'basic', username: 'u' })

    assert.ok(!isHostBound(star, 'example.com'))
    assert.ok(!isHostBound(star, '*'))
    assert.ok(!isHostBound(openai, ''))
  })
})

describe('findPlaceholders', () => {
  test('finds placeholders in header values, header lists, path and query', () => {
    const cases = [
      { headers: { authorization: 'Bearer TG_OPENAI' }, pathAndQuery: '/' },
      { headers: { cookie: ['a=1', 'b=TG_OPENAI'] }, pathAndQuery: '/' },
      { headers: {}, pathAndQuery: '/TG_OPENAI/x' },
      { headers: {}, pathAndQuery: '/x?k=TG_OPENAI' },
    ]

    for (const req of cases) assert.deepEqual(findPlaceholders(all, req), [openai])
  })

  test('finds percent-encoded and double-encoded placeholders', () => {
    const cases = ['/x?k=%54G_OPENAI', '/x?k=%2554G%5FOPENAI', '/%zz/%54G_OPENAI']

    for (const pathAndQuery of cases) {
      assert.deepEqual(findPlaceholders(all, { headers: {}, pathAndQuery }), [openai])
    }
  })

  test('returns every credential whose placeholder appears, and only placeholder kinds', () => {
    const req = { headers: { 'x-a': 'TG_GH' }, pathAndQuery: '/?k=TG_OPENAI' }

    assert.deepEqual(findPlaceholders(all, req), [openai, github])
    assert.deepEqual(findPlaceholders(all, { headers: { 'x-a': 'none' }, pathAndQuery: '/' }), [])
  })
})

describe('percentDecode', () => {
  test('decodes valid escapes and leaves malformed ones', () => {
    assert.equal(percentDecode('a%20b%zz%2'), 'a b%zz%2')
    assert.equal(percentDecode('%E2%82%AC'), '€')
    assert.equal(percentDecode('plain'), 'plain')
  })
})
