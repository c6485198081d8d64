import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { format, inspect } from 'node:util'
import { TollgateError } from '../../../src/errors/tollgate-error.js'
import { createLogger } from '../../../src/observability/logger.js'
import { SECRET_PLACEHOLDER, SecretValue } from '../../../src/secrets/secret-value.js'

/* eslint-disable @typescript-eslint/restrict-template-expressions, @typescript-eslint/restrict-plus-operands --
   these tests put the wrapper where lint forbids it in product code, to prove it is safe there */

const RAW = 'sk-live-0123456789abcdef'

function captureLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  const destination = { write: (line: string) => void lines.push(line) }
  return { lines, logger: createLogger({ level: 'info', destination }) }
}

describe('SecretValue', () => {
  test('reveals the value only when asked', () => {
    const secret = new SecretValue(RAW)

    assert.equal(secret.reveal(), RAW)
    assert.deepEqual(secret.revealBuffer(), Buffer.from(RAW))
    assert.equal(secret.length, Buffer.byteLength(RAW))
  })

  test('string, template, concatenation and JSON forms are the placeholder', () => {
    const secret = new SecretValue(RAW)

    assert.equal(String(secret), SECRET_PLACEHOLDER)
    assert.equal(`${secret}`, SECRET_PLACEHOLDER)
    assert.equal('key=' + secret, `key=${SECRET_PLACEHOLDER}`)
    assert.equal(JSON.stringify({ secret }), `{"secret":"${SECRET_PLACEHOLDER}"}`)
    assert.equal(JSON.stringify({ ...secret }), '{}')
    assert.deepEqual(Object.keys(secret), [])
  })

  test('util.inspect, format and console-style output never show the value', () => {
    const secret = new SecretValue(RAW)
    const outputs = [
      inspect(secret),
      inspect({ nested: { secret } }, { depth: 10, showHidden: true }),
      format('%s %o %O %j', secret, secret, secret, secret),
    ]

    for (const output of outputs) {
      assert.ok(!output.includes(RAW), output)
      assert.ok(output.includes(SECRET_PLACEHOLDER), output)
    }
  })

  test('a pino log line carries the placeholder, not the value', () => {
    const { lines, logger } = captureLogger()
    const secret = new SecretValue(RAW)

    logger.info({ secret, nested: { list: [secret] } }, 'credential loaded')

    assert.equal(lines.length, 1)
    assert.ok(!lines.join('').includes(RAW))
    assert.deepEqual(JSON.parse(lines[0] ?? '').nested.list, [SECRET_PLACEHOLDER])
  })

  test('error messages built from it do not leak the value', () => {
    const secret = new SecretValue(RAW)
    const error = new TollgateError('TOLLGATE_SECRET_UNAVAILABLE', `cannot use ${secret}`)

    assert.ok(!error.message.includes(RAW))
    assert.ok(!inspect(error).includes(RAW))
    assert.ok(!String(new Error(`bad ${secret}`)).includes(RAW))
  })

  test('wiping a revealed buffer or the source buffer does not change the secret', () => {
    const source = Buffer.from(RAW)
    const secret = new SecretValue(source)
    source.fill(0)
    secret.revealBuffer().fill(0)

    assert.equal(secret.reveal(), RAW)
  })

  test('equals compares values', () => {
    const secret = new SecretValue(RAW)

    assert.ok(secret.equals(new SecretValue(RAW)))
    assert.ok(!secret.equals(new SecretValue(`${RAW}x`)))
    assert.ok(!secret.equals(new SecretValue(RAW.replace('0', '1'))))
  })
})
