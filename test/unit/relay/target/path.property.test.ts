import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { normalisePath, type NormalisedPath } from '../../../../src/relay/target/path.js'

// Fixed seeds keep a failure reproducible; fast-check prints the shrunk counterexample.
const SEED = 0x70_11_6a_7e

/** What RFC 3986 calls an unreserved character, percent-encoded in either case. */
const ENCODED_UNRESERVED = /%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d|2e|5f|7e)/i

function tryNormalise(target: string): NormalisedPath | null {
  try {
    return normalisePath(target)
  } catch (error) {
    if (isTollgateError(error)) return null
    throw error
  }
}

// Targets built from pieces that exercise every branch: escapes of unreserved and reserved
// characters, dot segments, separators, and characters that must be refused. `%25` is left
// out here; an encoded `%` is refused outright (see path.test.ts).
const piece = fc.constantFrom(
  ...['/', '/', '/', '.', '..', 'a', 'Z', '0', '~', '-', '_', '?', '&', '='],
  ...['%2e', '%2E', '%7e', '%41', '%61', '%3a', '%3F', '%2f', '%5c', '%00', '%c3%a9', '%', '%4'],
  ...[';', '#', '\\', ' ', 'é'],
)
const target = fc.array(piece, { maxLength: 16 }).map((pieces) => '/' + pieces.join(''))

describe('normalisePath properties', () => {
  test('normalising its output again changes nothing', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const once = tryNormalise(raw)
        if (once === null) return
        assert.deepEqual(normalisePath(once.path + once.query), once)
      }),
      { numRuns: 5000, seed: SEED },
    )
  })

  test('the output path is absolute, dot-free, slash-single and decodes unreserved escapes', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const out = tryNormalise(raw)
        if (out === null) return
        const { path } = out
        assert.ok(path.startsWith('/'), path)
        assert.ok(!path.includes('//'), path)
        assert.ok(!`${path}/`.includes('/./'), path)
        assert.ok(!`${path}/`.includes('/../'), path)
        assert.doesNotMatch(path, ENCODED_UNRESERVED)
        for (const [escape] of path.matchAll(/%[0-9a-f]{2}/gi)) {
          assert.equal(escape, escape.toUpperCase(), 'hex digits are upper case')
        }
      }),
      { numRuns: 5000, seed: SEED },
    )
  })

  test('the query is the raw text after the first ?, untouched', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const out = tryNormalise(raw)
        if (out === null) return
        const mark = raw.indexOf('?')
        assert.equal(out.query, mark < 0 ? '' : raw.slice(mark))
      }),
      { numRuns: 2000, seed: SEED },
    )
  })
})

const CLIMBS = Symbol('climbs above the root')

/**
 * RFC 3986 section 5.2.4 (remove_dot_segments) as written there, working on the string buffer
 * rule by rule, except that rule C reports a climb above the root instead of ignoring it.
 */
function removeDotSegments(path: string): string | typeof CLIMBS {
  let input = path
  let output = ''
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3)
    else if (input.startsWith('./')) input = input.slice(2)
    else if (input.startsWith('/./')) input = input.slice(2)
    else if (input === '/.') input = '/'
    else if (input.startsWith('/../') || input === '/..') {
      if (output === '') return CLIMBS
      input = '/' + input.slice(input === '/..' ? 3 : 4)
      output = output.slice(0, output.lastIndexOf('/'))
    } else if (input === '.' || input === '..') input = ''
    else {
      const next = input.indexOf('/', 1)
      const end = next < 0 ? input.length : next
      output += input.slice(0, end)
      input = input.slice(end)
    }
  }
  return output === '' ? '/' : output
}

// Segments of safe characters, dot segments, and their encoded spellings.
const segment = fc.constantFrom(
  ...['a', 'b', 'c1', 'x-y', '~u', '...', '.a', 'a.'],
  ...['.', '..', '%2e', '%2E%2e', '.%2e', '%2e.'],
)
const dotted = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 10 }), fc.boolean())
  .map(([segments, slash]) => '/' + segments.join('/') + (slash ? '/' : ''))

function decodeDots(path: string): string {
  return path.replace(/%2e/gi, '.')
}

describe('normalisePath against a reference remove_dot_segments', () => {
  test('equals the RFC 3986 result, and throws exactly when that climbs above /', () => {
    fc.assert(
      fc.property(dotted, (raw) => {
        const expected = removeDotSegments(decodeDots(raw))
        const actual = tryNormalise(raw)
        if (expected === CLIMBS) assert.equal(actual, null, `${raw} climbs and must be refused`)
        else assert.deepEqual(actual, { path: expected, query: '' }, raw)
      }),
      { numRuns: 5000, seed: SEED },
    )
  })

  test('the reference itself agrees with the RFC examples', () => {
    assert.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g')
    assert.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6')
    assert.equal(removeDotSegments('/a/..'), '/')
    assert.equal(removeDotSegments('/a/.'), '/a/')
    assert.equal(removeDotSegments('/..'), CLIMBS)
  })
})
