import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { parseAbsoluteForm } from '../../../../src/relay/target/absolute-form.js'
import { canonicalHost, formatAuthorityHost } from '../../../../src/relay/target/host.js'
import { normalisePath } from '../../../../src/relay/target/path.js'

// From dist/test/unit/relay/target/ back to the repository's test/fixtures.
const CORPUS_FILE = new URL('../../../../../test/fixtures/fuzz-corpus/targets.txt', import.meta.url)
const SEED = 20_240_601
const RUNS = 20_000

/** Reads the corpus: one target a line, `#` comments, C-style escapes for controls. */
function readCorpus(): string[] {
  return readFileSync(CORPUS_FILE, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map(unescape)
}

function unescape(line: string): string {
  const simple: Record<string, string> = { t: '\t', n: '\n', r: '\r', '0': '\0', '\\': '\\' }
  return line.replace(/\\(x[0-9a-fA-F]{2}|[tnr0\\])/g, (_, code: string) =>
    code.startsWith('x') ? String.fromCharCode(parseInt(code.slice(1), 16)) : (simple[code] ?? ''),
  )
}

// Characters that sit on a parser boundary somewhere: separators, escapes, controls, IDN.
const BOUNDARY = [...'/\\?#@:;.%[]+-_ 0179aAfFxX~', '\t', '\r', '\n', '\0', '\x7f', 'é', 'ü', '。']
const inserted = fc.oneof(
  fc.constantFrom(...BOUNDARY),
  fc.constantFrom('%2e', '%2f', '%25', '%00', '..', '//', '/..', ':0', ':65536', '@', '[::1]'),
  fc.string({ maxLength: 3 }),
)

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'splice'; at: number; other: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: inserted }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: inserted }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), other: fc.nat() }),
)

function mutate(seed: string, mutations: readonly Mutation[], corpus: readonly string[]): string {
  let text = seed
  for (const m of mutations) {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1)
    if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at)
    else if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length)
    else if (m.kind === 'replace') text = text.slice(0, at) + m.text + text.slice(at + 1)
    else {
      const other = corpus[m.other % corpus.length] ?? ''
      text = text.slice(0, at) + other.slice(at % (other.length + 1))
    }
  }
  return text
}

/** Everything a relay decision is made on, from one request target. */
function parseTarget(raw: string) {
  const target = parseAbsoluteForm(raw)
  return { ...target, ...normalisePath(target.originForm) }
}

function assertWellFormed(raw: string, parsed: ReturnType<typeof parseTarget>): void {
  const { host, port, path, query } = parsed
  assert.equal(canonicalHost(formatAuthorityHost(host)), host, 'the host is canonical')
  assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535, `port ${port}`)
  assert.ok(path.startsWith('/') && !path.includes('//'), path)
  assert.ok(!`${path}/`.includes('/./') && !`${path}/`.includes('/../'), path)
  assert.ok(query === '' || query.startsWith('?'), query)
  assert.match(path + query, /^[\x21-\x7e]+$/, 'only visible ASCII is forwarded')

  // A second, independent parser must read the same host and port, or the relay and the
  // upstream (or a policy author's mental model) could disagree on where a request goes.
  const whatwg = new URL(raw)
  const whatwgHost = whatwg.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
  assert.equal(host, whatwgHost, 'host agrees with the WHATWG URL parser')
  assert.equal(port, whatwg.port === '' ? 80 : Number(whatwg.port), 'port agrees')
}

describe('fuzzing parseAbsoluteForm + normalisePath', () => {
  const corpus = readCorpus()

  test('the seed corpus is loaded with its escapes decoded', () => {
    assert.ok(corpus.length >= 50, `${corpus.length} seeds`)
    assert.ok(corpus.includes('http://example.com/\0'))
    assert.ok(corpus.includes('http://example.com\\@evil.test/'))
  })

  test('every seed and mutation is either well formed or a TollgateError', () => {
    let accepted = 0
    let refused = 0
    const input = fc
      .tuple(fc.nat(), fc.array(mutation, { maxLength: 4 }))
      .map(([i, ms]) => mutate(corpus[i % corpus.length] ?? '', ms, corpus))

    const check = (raw: string): void => {
      let parsed: ReturnType<typeof parseTarget>
      try {
        parsed = parseTarget(raw)
      } catch (error) {
        assert.ok(isTollgateError(error), `${JSON.stringify(raw)} threw ${String(error)}`)
        refused++
        return
      }
      assertWellFormed(raw, parsed)
      accepted++
    }

    for (const seed of corpus) check(seed)
    fc.assert(fc.property(input, check), { numRuns: RUNS, seed: SEED })

    // Not vacuous: a good share of the mutants must get through to the well-formed checks.
    assert.ok(accepted > RUNS / 20, `${accepted} accepted, ${refused} refused`)
    assert.ok(refused > RUNS / 20, `${accepted} accepted, ${refused} refused`)
  })
})
