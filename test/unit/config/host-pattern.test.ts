import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import {
  exactHostProblem,
  hostPatternProblem,
  isPatternWithin,
  matchesWildcard,
  normaliseHost,
} from '../../../src/config/host-pattern.js'

void describe('normaliseHost', () => {
  void test('lower-cases, drops the trailing dot and IPv6 brackets', () => {
    assert.equal(normaliseHost('API.GitHub.COM.'), 'api.github.com')
    assert.equal(normaliseHost('[::1]'), '::1')
    // Rules must spell IPv6 the way the relay spells request hosts, or they never match.
    assert.equal(normaliseHost('0:0::1'), '::1')
    assert.equal(normaliseHost('[::FFFF:127.0.0.1]'), '::ffff:7f00:1')
    assert.equal(normaliseHost('*.Example.com'), '*.example.com')
  })
})

void describe('hostPatternProblem', () => {
  void test('accepts names, IP literals, two-label wildcards and *', () => {
    for (const ok of ['api.github.com', 'localhost', '10.0.0.1', '::1', '*', '*.example.com']) {
      assert.equal(hostPatternProblem(ok), null, ok)
    }
  })

  void test('refuses numeric forms that resolvers would turn into addresses', () => {
    for (const bad of ['127.1', '2130706433', '0x7f.1', '10.0.0.256']) {
      assert.notEqual(hostPatternProblem(bad), null, bad)
    }
  })

  void test('refuses malformed names and misplaced wildcards', () => {
    for (const bad of ['a..b', '-a.com', 'a-.com', 'a*.com', 'a.*.com', '*.com', '**.a.com']) {
      assert.notEqual(hostPatternProblem(bad), null, bad)
    }
    assert.notEqual(hostPatternProblem(`${'a'.repeat(64)}.com`), null)
  })

  void test('exact hosts refuse wildcards', () => {
    assert.equal(exactHostProblem('internal.example'), null)
    assert.notEqual(exactHostProblem('*.internal.example'), null)
  })
})

void describe('isPatternWithin', () => {
  const bound = ['api.github.com', '*.corp.example', '10.0.0.1']

  void test('exact names and addresses must be bound exactly or under a wildcard', () => {
    assert.equal(isPatternWithin('api.github.com', bound), true)
    assert.equal(isPatternWithin('a.b.corp.example', bound), true)
    assert.equal(isPatternWithin('10.0.0.1', bound), true)
    assert.equal(isPatternWithin('github.com', bound), false)
    assert.equal(isPatternWithin('corp.example', bound), false)
    assert.equal(isPatternWithin('evilcorp.example', bound), false)
  })

  void test('wildcards must be as narrow as a bound wildcard', () => {
    assert.equal(isPatternWithin('*.corp.example', bound), true)
    assert.equal(isPatternWithin('*.x.corp.example', bound), true)
    assert.equal(isPatternWithin('*.example', bound), false)
    assert.equal(isPatternWithin('*.github.com', bound), false)
    assert.equal(isPatternWithin('*', bound), false)
  })
})

void test('matchesWildcard matches whole labels only, and never IP literals', () => {
  assert.equal(matchesWildcard('a.corp.example', '*.corp.example'), true)
  assert.equal(matchesWildcard('evilcorp.example', '*.corp.example'), false)
  assert.equal(matchesWildcard('corp.example', '*.corp.example'), false)
  assert.equal(matchesWildcard('::1', '*'), true)
  assert.equal(matchesWildcard('1.2.3.4', '*.3.4'), false)
})
