import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { normalisePath } from '../../../../src/relay/target/path.js'
import { assertRefused } from './refusal.js'

// [target, path policy sees, query forwarded]
const NORMALISED: ReadonlyArray<[string, string, string]> = [
  ['/', '/', ''],
  ['/a/b', '/a/b', ''],
  ['/a/b/', '/a/b/', ''],
  ['/a/./b', '/a/b', ''],
  ['/./a', '/a', ''],
  ['/a/.', '/a/', ''],
  ['/.', '/', ''],
  ['/a/../b', '/b', ''],
  ['/a/b/../../c', '/c', ''],
  ['/a/..', '/', ''],
  ['/a/b/..', '/a/', ''],
  ['/a/../', '/', ''],
  ['/...', '/...', ''],
  ['/a..b/.c', '/a..b/.c', ''],
  // Encoded dots are dots: `%2e%2e` cannot be used to hide a climb from policy.
  ['/a/%2e%2e/b', '/b', ''],
  ['/a/%2E%2e/b', '/b', ''],
  ['/a/.%2e/b', '/b', ''],
  ['/a/%2e/b', '/a/b', ''],
  ['/a%2Eb', '/a.b', ''],
  // Unreserved characters are decoded; everything else is kept, with upper-case hex.
  ['/%7e', '/~', ''],
  ['/%7Euser', '/~user', ''],
  ['/%41%5a%61%7a%30%39%2d%5f', '/AZaz09-_', ''],
  ['/a%3ab', '/a%3Ab', ''],
  ['/a%3Ab', '/a%3Ab', ''],
  ['/%c3%a9', '/%C3%A9', ''],
  ['/%3f', '/%3F', ''],
  ['/%23', '/%23', ''],
  ['/%3b', '/%3B', ''],
  ['/%20', '/%20', ''],
  ['/caf%c3%a9/%e2%82%ac/%f0%9f%98%80', '/caf%C3%A9/%E2%82%AC/%F0%9F%98%80', ''],
  // The query is forwarded byte for byte: never decoded, re-cased or dot-resolved.
  ['/a?x=%2f&y=%7e', '/a', '?x=%2f&y=%7e'],
  ['/a?b/../c', '/a', '?b/../c'],
  ['/a?', '/a', '?'],
  ['/a??x', '/a', '??x'],
  ['/a?q=;//', '/a', '?q=;//'],
  ['/a?%zz', '/a', '?%zz'],
  ['/a/./?x=./', '/a/', '?x=./'],
  ['/?', '/', '?'],
]

const REFUSED: readonly string[] = [
  '',
  'a/b',
  '*',
  'http://example.com/',
  '/..',
  '/../a',
  '/a/../..',
  '/%2e%2e',
  '/%2e%2e/a',
  '/.%2E/',
  '/a/%2E%2E/%2e%2e/b',
  // Encoded separators and controls.
  '/a%2fb',
  '/a%2Fb',
  '/a%5cb',
  '/a%5Cb',
  '/a%00b',
  '/a%0ab',
  '/a%0d%0a',
  '/a%7f',
  '/a%09',
  // Double encoding.
  '/%252e%252e',
  '/%2541',
  '/a%252fb',
  // Broken percent-encoding.
  '/a%',
  '/a%4',
  '/a%zz',
  '/a%g0',
  '/a%%41',
  // Escaped bytes that are not UTF-8: overlong `.` `/` `\`, stray and lone bytes, surrogates.
  '/%c0%ae%c0%ae/admin',
  '/a/..%c0%afadmin',
  '/a/..%c1%9cadmin',
  '/%e0%80%ae%e0%80%ae/admin',
  '/%f0%80%80%ae',
  '/%ff',
  '/%80',
  '/%c3',
  '/%c3a',
  '/%ed%a0%80',
  '/%f4%90%80%80',
  // Path parameters, repeated slashes, backslashes, fragments.
  '/a;b',
  '/a;jsessionid=1/b',
  '/;/admin',
  '//a',
  '//evil.test/x',
  '/a//b',
  '/a/%2e//b',
  '/a\\b',
  '/\\evil.test/x',
  '/a?x=\\',
  '/a#b',
  '/a?q#f',
  // Non-ASCII, spaces and controls must be percent-encoded.
  '/é',
  '/a?x=é',
  '/a b',
  '/a\tb',
  '/a\u0000b',
  '/a\u007f',
]

describe('normalisePath fixtures', () => {
  for (const [target, path, query] of NORMALISED) {
    test(`${JSON.stringify(target)} → ${JSON.stringify(path + query)}`, () => {
      assert.deepEqual(normalisePath(target), { path, query })
    })
  }

  for (const target of REFUSED) {
    test(`${JSON.stringify(target)} is refused`, () => {
      assertRefused(() => normalisePath(target), 'TOLLGATE_BAD_PATH', target)
    })
  }
})

describe('normalisePath: double encoding spelled with encoded digits', () => {
  // `%25` followed by the escapes of two hex digits decodes, in one pass, to `%25` + two hex
  // digits: the forwarded path is double-encoded after all (an upstream that decodes twice
  // reads `/%2561dmin` as `/admin`), and normalising the output again refuses it.
  const cases = ['/%25%34%31', '/%25%36%31dmin', '/%25%32%65%25%32%65/etc', '/%25a%41']
  for (const target of cases) {
    test(`${JSON.stringify(target)} is refused as double encoding`, () => {
      assertRefused(() => normalisePath(target), 'TOLLGATE_BAD_PATH', target)
    })
  }
})
