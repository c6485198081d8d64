import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  hostMatches,
  hostPatternCovers,
  isSuffixPattern,
  isTopLevelSuffix,
} from '../../../src/policy/host-pattern.js'
import { engineFor, policy, request, rule } from './fixtures.js'

void describe('hostMatches', () => {
  const cases: Array<[pattern: string, host: string, expected: boolean]> = [
    ['api.github.com', 'api.github.com', true],
    ['api.github.com', 'x.api.github.com', false],
    ['*.github.com', 'api.github.com', true],
    ['*.github.com', 'a.b.c.github.com', true],
    ['*.github.com', 'github.com', false],
    ['*.github.com', 'evilgithub.com', false],
    ['*.github.com', 'github.com.evil.net', false],
    ['*', 'anything.example', true],
    ['*', '::1', true],
  ]

  for (const [pattern, host, expected] of cases) {
    void test(`${pattern} vs ${host} → ${expected}`, () => {
      assert.equal(hostMatches(pattern, host), expected)
    })
  }

  void test('a suffix pattern never matches a host outside its domain', () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,8}$/)
    const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'))
    fc.assert(
      fc.property(host, (candidate) => {
        if (!candidate.endsWith('.s.com')) assert.equal(hostMatches('*.s.com', candidate), false)
        else assert.equal(hostMatches('*.s.com', candidate), true)
      }),
    )
  })
})

void describe('hostPatternCovers', () => {
  void test('orders patterns by breadth', () => {
    assert.equal(hostPatternCovers('*', '*.x.com'), true)
    assert.equal(hostPatternCovers('*.x.com', 'a.x.com'), true)
    assert.equal(hostPatternCovers('*.x.com', '*.a.x.com'), true)
    assert.equal(hostPatternCovers('*.x.com', '*.x.com'), true)
    assert.equal(hostPatternCovers('*.x.com', 'x.com'), false)
    assert.equal(hostPatternCovers('a.x.com', '*.x.com'), false)
    assert.equal(hostPatternCovers('*.x.com', '*'), false)
    assert.equal(hostPatternCovers('a.x.com', 'a.x.com'), true)
  })

  void test('classifies suffix patterns', () => {
    assert.equal(isSuffixPattern('*.com'), true)
    assert.equal(isSuffixPattern('*'), false)
    assert.equal(isSuffixPattern('*.'), false)
    assert.equal(isTopLevelSuffix('*.com'), true)
    assert.equal(isTopLevelSuffix('*.github.com'), false)
  })
})

void describe('suffix patterns and IP literals', () => {
  void test('a suffix pattern never matches an IP literal, in the matcher or the engine', () => {
    assert.equal(hostMatches('*.0.1', '127.0.0.1'), false)
    assert.equal(hostMatches('*.0.1', 'a.0.1'), true)

    const engine = engineFor(policy('p', [rule('r', { hosts: ['*.0.1'], schemes: ['http'] })]))
    assert.equal(engine.decide('bot', request('GET http://127.0.0.1/')).kind, 'deny')
  })
})
