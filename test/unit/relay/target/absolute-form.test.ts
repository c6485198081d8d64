import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ErrorCode } from '../../../../src/errors/codes.js'
import {
  parseAbsoluteForm,
  type AbsoluteTarget,
} from '../../../../src/relay/target/absolute-form.js'
import { assertRefused } from './refusal.js'

const ACCEPTED: ReadonlyArray<[string, AbsoluteTarget]> = [
  ['http://example.com', { host: 'example.com', port: 80, originForm: '/' }],
  ['http://example.com/', { host: 'example.com', port: 80, originForm: '/' }],
  ['HTTP://EXAMPLE.COM/A', { host: 'example.com', port: 80, originForm: '/A' }],
  ['http://example.com?q=1', { host: 'example.com', port: 80, originForm: '/?q=1' }],
  ['http://example.com:8080/p?q', { host: 'example.com', port: 8080, originForm: '/p?q' }],
  ['http://example.com./p', { host: 'example.com', port: 80, originForm: '/p' }],
  ['http://[::1]:8080/x', { host: '::1', port: 8080, originForm: '/x' }],
  ['http://0x7f.1/x', { host: '127.0.0.1', port: 80, originForm: '/x' }],
  ['http://bücher.de/', { host: 'xn--bcher-kva.de', port: 80, originForm: '/' }],
  // The origin form is passed on raw: normalisePath is what judges it.
  ['http://example.com/a/../b', { host: 'example.com', port: 80, originForm: '/a/../b' }],
  ['http://example.com//x', { host: 'example.com', port: 80, originForm: '//x' }],
  ['http://example.com/?a=@b', { host: 'example.com', port: 80, originForm: '/?a=@b' }],
]

const REFUSED: ReadonlyArray<[string, ErrorCode]> = [
  ['https://example.com/', 'TOLLGATE_UNSUPPORTED_SCHEME'],
  ['HTTPS://example.com/', 'TOLLGATE_UNSUPPORTED_SCHEME'],
  ['ftp://example.com/', 'TOLLGATE_MALFORMED_REQUEST'],
  ['/origin/form', 'TOLLGATE_MALFORMED_REQUEST'],
  ['example.com:80', 'TOLLGATE_MALFORMED_REQUEST'],
  ['http:/example.com/', 'TOLLGATE_MALFORMED_REQUEST'],
  [' http://example.com/', 'TOLLGATE_MALFORMED_REQUEST'],
  ['*', 'TOLLGATE_MALFORMED_REQUEST'],
  ['http://', 'TOLLGATE_BAD_HOST'],
  ['http:///x', 'TOLLGATE_BAD_HOST'],
  ['http://:80/x', 'TOLLGATE_BAD_HOST'],
  ['http://user@example.com/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://user:pw@example.com/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  // Parsers disagree whether `\` ends the authority; refusing it leaves nothing to disagree on.
  ['http://example.com\\@evil.test/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com#@evil.test/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com#frag', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com:0/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com:65536/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com:+80/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://example.com:http/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://[fe80::1%25eth0]/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://::1/', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['http://exa mple.com/', 'TOLLGATE_AMBIGUOUS_TARGET'],
]

describe('parseAbsoluteForm fixtures', () => {
  for (const [raw, expected] of ACCEPTED) {
    test(`${JSON.stringify(raw)} → ${expected.host}:${expected.port} ${expected.originForm}`, () => {
      assert.deepEqual(parseAbsoluteForm(raw), expected)
    })
  }

  for (const [raw, code] of REFUSED) {
    test(`${JSON.stringify(raw)} is refused with ${code}`, () => {
      assertRefused(() => parseAbsoluteForm(raw), code, raw)
    })
  }
})
