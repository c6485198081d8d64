import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import type { ErrorCode } from '../../../../src/errors/codes.js'
import { canonicalHost, formatAuthorityHost } from '../../../../src/relay/target/host.js'
import { assertRefused } from './refusal.js'

// Every spelling an agent might use for a host, and the one form policy must see.
const CANONICAL: ReadonlyArray<[string, string]> = [
  ['example.com', 'example.com'],
  ['EXAMPLE.COM', 'example.com'],
  ['Api.Example.Com', 'api.example.com'],
  ['example.com.', 'example.com'],
  ['EXAMPLE.com.', 'example.com'],
  ['a_b.example.com', 'a_b.example.com'],
  ['x-y.example.com', 'x-y.example.com'],
  ['bücher.de', 'xn--bcher-kva.de'],
  ['BÜCHER.de', 'xn--bcher-kva.de'],
  ['XN--BCHER-KVA.DE', 'xn--bcher-kva.de'],
  ['例え.jp', 'xn--r8jz45g.jp'],
  // Full-width letters fold to ASCII under IDNA mapping, like a browser would.
  ['ｅｘａｍｐｌｅ.com', 'example.com'],
  ['127.0.0.1', '127.0.0.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['127.0.0.1.', '127.0.0.1'],
  // Numeric spellings a resolver reads as 127.0.0.1 become that dotted quad, so a host rule
  // written for 127.0.0.1 is the one that decides, and nothing else can name that address.
  ['2130706433', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['0x7F.0.0.1', '127.0.0.1'],
  ['127.1', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['1.2.3', '1.2.0.3'],
  ['[::1]', '::1'],
  ['[0:0:0:0:0:0:0:1]', '::1'],
  ['[2001:DB8::1]', '2001:db8::1'],
  ['[2001:db8:0:0:0:0:0:1]', '2001:db8::1'],
  ['[::FFFF:127.0.0.1]', '::ffff:7f00:1'],
]

const REFUSED: ReadonlyArray<[string, ErrorCode]> = [
  ['', 'TOLLGATE_BAD_HOST'],
  ['.', 'TOLLGATE_BAD_HOST'],
  ['..', 'TOLLGATE_BAD_HOST'],
  ['example.com..', 'TOLLGATE_BAD_HOST'],
  ['a..b', 'TOLLGATE_BAD_HOST'],
  ['.example.com', 'TOLLGATE_BAD_HOST'],
  ['-a.com', 'TOLLGATE_BAD_HOST'],
  ['a-.com', 'TOLLGATE_BAD_HOST'],
  ['x'.repeat(64) + '.com', 'TOLLGATE_BAD_HOST'],
  [('a'.repeat(63) + '.').repeat(4) + 'com', 'TOLLGATE_BAD_HOST'],
  ['a\u0000b.com', 'TOLLGATE_BAD_HOST'],
  ['foo.123', 'TOLLGATE_BAD_HOST'],
  ['a.0x7f', 'TOLLGATE_BAD_HOST'],
  ['256.1.1.1', 'TOLLGATE_BAD_HOST'],
  ['1.2.3.4.5', 'TOLLGATE_BAD_HOST'],
  ['0x100.1.1.1', 'TOLLGATE_BAD_HOST'],
  ['xn--abc', 'TOLLGATE_BAD_HOST'],
  ['::1', 'TOLLGATE_BAD_HOST'],
  ['[::1', 'TOLLGATE_BAD_HOST'],
  ['[]', 'TOLLGATE_BAD_HOST'],
  ['[v1.x]', 'TOLLGATE_BAD_HOST'],
  ['[127.0.0.1]', 'TOLLGATE_BAD_HOST'],
  ['[fe80::1%eth0]', 'TOLLGATE_BAD_HOST'],
  ['[fe80::1%25eth0]', 'TOLLGATE_BAD_HOST'],
  ['[::1%1]', 'TOLLGATE_BAD_HOST'],
]

describe('canonicalHost fixtures', () => {
  for (const [raw, expected] of CANONICAL) {
    test(`${JSON.stringify(raw)} → ${expected}`, () => {
      assert.equal(canonicalHost(raw), expected)
    })
  }

  for (const [raw, code] of REFUSED) {
    test(`${JSON.stringify(raw)} is refused with ${code}`, () => {
      assertRefused(() => canonicalHost(raw), code, raw)
    })
  }

  test('formatAuthorityHost brackets IPv6 and nothing else', () => {
    assert.equal(formatAuthorityHost('::1'), '[::1]')
    assert.equal(formatAuthorityHost('example.com'), 'example.com')
    assert.equal(formatAuthorityHost('127.0.0.1'), '127.0.0.1')
  })

  // Two trailing dots are an empty label: refused for names and IPv4 spellings alike.
  for (const raw of ['127.0.0.1..', '1..', '0x7f.1..']) {
    test(`${JSON.stringify(raw)} is refused like example.com..`, () => {
      assertRefused(() => canonicalHost(raw), 'TOLLGATE_BAD_HOST', raw)
    })
  }

  // The DNS length limit applies to the punycode form, which is what gets resolved.
  test('an IDN whose punycode form exceeds 253 characters is refused', () => {
    const raw = ('ü'.repeat(50) + '.').repeat(5) + 'de'
    assertRefused(() => canonicalHost(raw), 'TOLLGATE_BAD_HOST', raw)
  })

  // Hosts read once are remembered; a refused one must be refused every time, not remembered.
  test('a host read again reads the same, and a refused one is refused again', () => {
    for (const raw of ['Example.COM.', '0x7f.1', 'bücher.de', '[0:0::1]']) {
      assert.equal(canonicalHost(raw), canonicalHost(raw), raw)
    }
    for (const raw of ['a..b', '1.2.3.999', 'x.123']) {
      assert.throws(() => canonicalHost(raw), raw)
      assert.throws(() => canonicalHost(raw), raw)
    }
  })
})

// Labels of letters, digits, '-', '_' and a few non-ASCII letters, in random case, short
// enough that the punycode form stays within DNS limits (see the length test above).
const labelChar = fc.constantFrom(...'abcXYZ019-_', 'ü', 'é', 'ß', '例', 'Ａ')
const label = fc.array(labelChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''))
const dnsLike = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([labels, dot]) => labels.join('.') + (dot ? '.' : ''))
const anyHostText = fc.oneof(
  dnsLike,
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.string({ unit: fc.constantFrom(...'aA0.-_[]:%xü'), maxLength: 20 }),
)

function tryCanonical(raw: string): string | null {
  try {
    return canonicalHost(raw)
  } catch {
    return null
  }
}

describe('canonicalHost properties', () => {
  test('output is lower case, has no trailing dot and is a fixed point', () => {
    fc.assert(
      fc.property(anyHostText, (raw) => {
        const host = tryCanonical(raw)
        if (host === null) return
        assert.equal(host, host.toLowerCase())
        assert.ok(!host.endsWith('.'), host)
        assert.match(host, /^[\x21-\x7e]+$/, 'canonical hosts are ASCII')
        // IPv6 comes back without brackets; in an authority it is written with them again.
        assert.equal(canonicalHost(formatAuthorityHost(host)), host)
      }),
      { numRuns: 2000 },
    )
  })

  test('refusals are TollgateErrors, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(anyHostText, fc.string({ maxLength: 40 })), (raw) => {
        try {
          canonicalHost(raw)
        } catch (error) {
          assert.equal((error as Error).name, 'TollgateError', String(error))
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('every IPv4 spelling a WHATWG URL parser accepts means the same address here', () => {
    fc.assert(
      fc.property(fc.ipV4Extended(), (raw) => {
        const whatwg = new URL(`http://${raw}/`).hostname
        assert.equal(canonicalHost(raw), whatwg)
      }),
      { numRuns: 2000 },
    )
  })

  test('IPv6 literals compress to the same form a URL parser gives', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const whatwg = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
        assert.equal(canonicalHost(`[${ip.toUpperCase()}]`), whatwg)
      }),
      { numRuns: 1000 },
    )
  })
})
