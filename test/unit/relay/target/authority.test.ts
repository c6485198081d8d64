import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Scheme } from '../../../../src/config/types.js'
import type { ErrorCode } from '../../../../src/errors/codes.js'
import { parseAuthority, type Authority } from '../../../../src/relay/target/authority.js'
import { assertRefused } from './refusal.js'

interface Accepted {
  raw: string
  scheme: Scheme
  requirePort?: boolean
  expected: Authority
}

const ACCEPTED: readonly Accepted[] = [
  { raw: 'example.com', scheme: 'http', expected: { host: 'example.com', port: 80 } },
  { raw: 'example.com', scheme: 'https', expected: { host: 'example.com', port: 443 } },
  { raw: 'EXAMPLE.com.:8080', scheme: 'http', expected: { host: 'example.com', port: 8080 } },
  { raw: 'example.com:1', scheme: 'https', expected: { host: 'example.com', port: 1 } },
  { raw: 'example.com:65535', scheme: 'https', expected: { host: 'example.com', port: 65535 } },
  // Leading zeros are read as decimal, as every HTTP stack does; nothing reads them as octal.
  { raw: 'example.com:080', scheme: 'https', expected: { host: 'example.com', port: 80 } },
  { raw: 'bücher.de:443', scheme: 'https', expected: { host: 'xn--bcher-kva.de', port: 443 } },
  { raw: '127.1:80', scheme: 'http', expected: { host: '127.0.0.1', port: 80 } },
  { raw: '2130706433:80', scheme: 'http', expected: { host: '127.0.0.1', port: 80 } },
  { raw: '[::1]', scheme: 'https', expected: { host: '::1', port: 443 } },
  { raw: '[::1]:8443', scheme: 'https', expected: { host: '::1', port: 8443 } },
  { raw: '[0:0::1]:443', scheme: 'https', requirePort: true, expected: { host: '::1', port: 443 } },
  {
    raw: 'api.example.com:443',
    scheme: 'https',
    requirePort: true,
    expected: { host: 'api.example.com', port: 443 },
  },
]

const REFUSED: ReadonlyArray<[string, ErrorCode, boolean?]> = [
  ['user@example.com', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['user:pass@example.com:443', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com@evil.test', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['@example.com', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:0', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:65536', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:99999', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:123456', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:+80', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:-1', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:8o', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:0x50', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:80 ', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com:80:80', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['a:b:c', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['::1', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['[::1]:', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['[::1]x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['[::1]:80x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['[::1', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['[fe80::1%25eth0]:443', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['ex ample.com', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com\t', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com/x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com\\x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com?x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['example.com#x', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['ex%61mple.com', 'TOLLGATE_AMBIGUOUS_TARGET'],
  ['', 'TOLLGATE_BAD_HOST'],
  [':80', 'TOLLGATE_BAD_HOST'],
  ['[]:443', 'TOLLGATE_BAD_HOST'],
  ['-bad-.com:443', 'TOLLGATE_BAD_HOST'],
  // CONNECT targets must name their port: `CONNECT example.com` is refused, not defaulted.
  ['example.com', 'TOLLGATE_AMBIGUOUS_TARGET', true],
  ['[::1]', 'TOLLGATE_AMBIGUOUS_TARGET', true],
  ['127.0.0.1', 'TOLLGATE_AMBIGUOUS_TARGET', true],
]

describe('parseAuthority fixtures', () => {
  for (const { raw, scheme, requirePort, expected } of ACCEPTED) {
    const label = `${JSON.stringify(raw)} (${scheme}${requirePort ? ', port required' : ''})`
    test(`${label} → ${expected.host} port ${expected.port}`, () => {
      assert.deepEqual(parseAuthority(raw, scheme, requirePort), expected)
    })
  }

  for (const [raw, code, requirePort] of REFUSED) {
    const label = `${JSON.stringify(raw)}${requirePort ? ' as a CONNECT target' : ''}`
    test(`${label} is refused with ${code}`, () => {
      assertRefused(() => parseAuthority(raw, 'https', requirePort ?? false), code, raw)
    })
  }
})
