import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  requireStrictFraming,
  type RequestHead,
} from '../../../../src/relay/http/strict-framing.js'
import { assertRefused } from '../target/refusal.js'

function head(httpVersion: string, ...pairs: Array<[string, string]>): RequestHead {
  return { httpVersion, rawHeaders: pairs.flat() }
}

const PASSES: ReadonlyArray<[string, RequestHead]> = [
  ['HTTP/1.1 without framing headers', head('1.1', ['Host', 'a'])],
  ['HTTP/1.0 without framing headers', head('1.0')],
  ['chunked', head('1.1', ['Transfer-Encoding', 'chunked'])],
  ['Chunked, any case', head('1.1', ['transfer-encoding', 'CHUNKED'])],
  ['chunked with spaces and tabs around it', head('1.1', ['Transfer-Encoding', ' \tchunked\t '])],
  ['Expect: 100-continue', head('1.1', ['Expect', '100-Continue'])],
  ['Content-Length alone (the parser checks it)', head('1.0', ['Content-Length', '3'])],
]

const REFUSED: ReadonlyArray<[string, RequestHead]> = [
  ['HTTP/2.0 in a request line', head('2.0')],
  ['HTTP/0.9', head('0.9')],
  ['HTTP/1.2', head('1.2')],
  ['Transfer-Encoding on HTTP/1.0', head('1.0', ['Transfer-Encoding', 'chunked'])],
  ['a coding before chunked', head('1.1', ['Transfer-Encoding', 'gzip, chunked'])],
  ['identity before chunked', head('1.1', ['Transfer-Encoding', 'identity, chunked'])],
  ['chunked twice in one header', head('1.1', ['Transfer-Encoding', 'chunked, chunked'])],
  [
    'two Transfer-Encoding headers',
    head('1.1', ['Transfer-Encoding', 'chunked'], ['transfer-encoding', 'chunked']),
  ],
  ['a coding that is not chunked', head('1.1', ['Transfer-Encoding', 'gzip'])],
  ['chunked padded with a vertical tab', head('1.1', ['Transfer-Encoding', '\x0bchunked'])],
  ['an empty Transfer-Encoding', head('1.1', ['Transfer-Encoding', ''])],
  ['an expectation other than 100-continue', head('1.1', ['Expect', 'x-other'])],
  ['100-continue with a parameter', head('1.1', ['Expect', '100-continue; x=1'])],
  ['two Expect headers', head('1.1', ['Expect', '100-continue'], ['Expect', '100-continue'])],
]

describe('requireStrictFraming', () => {
  for (const [name, request] of PASSES) {
    test(`passes: ${name}`, () => assert.doesNotThrow(() => requireStrictFraming(request)))
  }
  for (const [name, request] of REFUSED) {
    test(`refuses: ${name}`, () => {
      assertRefused(() => requireStrictFraming(request), 'TOLLGATE_MALFORMED_REQUEST', name)
    })
  }
})
