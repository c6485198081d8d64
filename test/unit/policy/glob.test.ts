import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compilePathGlob, globToRegExp } from '../../../src/policy/glob.js'

const CASES: Array<[glob: string, path: string, expected: boolean]> = [
  ['/repos', '/repos', true],
  ['/repos', '/repos/', false],
  ['/repos', '/repo', false],
  ['/repos/*', '/repos/a', true],
  ['/repos/*', '/repos/', true],
  ['/repos/*', '/repos/a/b', false],
  ['/repos/*/issues', '/repos/x/issues', true],
  ['/repos/*/issues', '/repos/x/y/issues', false],
  ['/repos/**', '/repos/a/b', true],
  ['/repos/**', '/repos', true],
  ['/repos/**', '/repos/', true],
  ['/repos/**', '/reposx', false],
  ['/repos/**', '/repo', false],
  ['/**', '/', true],
  ['/**', '/anything/at/all', true],
  ['/a/**/b', '/a/x/y/b', true],
  ['/a/**/b', '/a/x/b/c', false],
  ['/a/**/b', '/a/b', false],
  ['/v1/*.json', '/v1/file.json', true],
  ['/v1/*.json', '/v1/filexjson', false],
  ['/a.b', '/axb', false],
  ['/a+(b)', '/a+(b)', true],
  ['/a+(b)', '/aab', false],
  ['/x/*/**', '/x/a', true],
  ['/x/*/**', '/x/a/b/c', true],
  ['/x/*/**', '/x', false],
  ['/files/**', '/files/a\nb', true],
]

void describe('compilePathGlob', () => {
  for (const [glob, path, expected] of CASES) {
    void test(`${glob} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(path)}`, () => {
      assert.equal(compilePathGlob(glob)(path), expected)
      assert.equal(globToRegExp(glob).test(path), expected)
    })
  }

  void test('`*` never matches a path with more slashes than the glob', () => {
    const segment = fc.stringMatching(/^[a-z0-9._-]{0,6}$/)
    fc.assert(
      fc.property(segment, segment, (a, b) => {
        assert.equal(compilePathGlob('/p/*')(`/p/${a}/${b}`), false)
      }),
    )
  })

  void test('the fast paths agree with the RegExp form on random paths', () => {
    const globs = ['/**', '/a/**', '/a', '/a/*/c/**']
    const path = fc.array(fc.constantFrom('a', 'b', 'c', '', '.'), { maxLength: 5 })
    fc.assert(
      fc.property(fc.constantFrom(...globs), path, (glob, parts) => {
        const candidate = `/${parts.join('/')}`
        assert.equal(compilePathGlob(glob)(candidate), globToRegExp(glob).test(candidate))
      }),
    )
  })
})
