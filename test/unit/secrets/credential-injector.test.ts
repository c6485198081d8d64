import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CredentialConfig, CredentialInjection } from '../../../src/config/types.js'
import { injectCredential, type OutgoingRequest } from '../../../src/secrets/credential-injector.js'
import { encodedForms } from '../../../src/secrets/secret-forms.js'
import { SecretValue } from '../../../src/secrets/secret-value.js'

const RAW = 'sk/live+key=42'
const ENCODED = encodeURIComponent(RAW)

function credential(inject: CredentialInjection): CredentialConfig {
  return { name: 'api', secret: 'api-key', hosts: ['api.example.com'], inject }
}

function request(
  headers: OutgoingRequest['headers'] = {},
  pathAndQuery = '/v1/items',
): OutgoingRequest {
  return { headers, pathAndQuery }
}

describe('injectCredential: header', () => {
  const cred = credential({ kind: 'header', header: 'Authorization', format: 'Bearer {secret}' })

  test('replaces every agent-supplied copy, whatever its case', () => {
    const req = request({
      Authorization: 'Bearer stolen',
      AUTHORIZATION: ['x', 'y'],
      accept: '*/*',
    })

    injectCredential(cred, new SecretValue(RAW), req)

    assert.deepEqual(req.headers, { accept: '*/*', authorization: `Bearer ${RAW}` })
  })

  test('returns the header value and the secret forms to scrub, longest first', () => {
    const { scrubValues } = injectCredential(cred, new SecretValue(RAW), request())

    const base64 = Buffer.from(RAW).toString('base64')
    const hex = Buffer.from(RAW).toString('hex')
    for (const form of [`Bearer ${RAW}`, RAW, ENCODED, base64, hex, hex.toUpperCase()]) {
      assert.ok(scrubValues.includes(form), form)
    }
    assert.deepEqual(new Set(scrubValues), new Set([`Bearer ${RAW}`, ...encodedForms(RAW)]))
    const lengths = scrubValues.map((value) => value.length)
    assert.deepEqual(
      lengths,
      [...lengths].sort((a, b) => b - a),
    )
  })

  test('refuses a format without {secret}', () => {
    const bad = credential({ kind: 'header', header: 'x-api-key', format: 'Bearer' })

    assert.throws(() => injectCredential(bad, new SecretValue(RAW), request()), {
      code: 'TOLLGATE_CONFIG_INVALID',
    })
  })

  test('refuses a secret that would split the header, and leaves the request alone', () => {
    const req = request({ authorization: 'agent' })

    assert.throws(
      () => injectCredential(cred, new SecretValue('a\r\nx-evil: 1'), req),
      (error) => {
        assert.ok(error instanceof Error && !error.message.includes('x-evil'))
        return true
      },
    )
    assert.deepEqual(req.headers, { authorization: 'agent' })
  })
})

describe('injectCredential: basic', () => {
  const cred = credential({ kind: 'basic', username: 'robot' })

  test('drops the agent authorization and sets Basic base64(username:secret)', () => {
    const req = request({ Authorization: 'Basic c3RvbGVu', 'x-other': 'kept' })

    const { scrubValues } = injectCredential(cred, new SecretValue(RAW), req)

    const encoded = Buffer.from(`robot:${RAW}`).toString('base64')
    assert.deepEqual(req.headers, { 'x-other': 'kept', authorization: `Basic ${encoded}` })
    assert.ok(scrubValues.includes(`Basic ${encoded}`))
    assert.ok(scrubValues.includes(RAW))
  })
})

describe('injectCredential: query', () => {
  const cred = credential({ kind: 'query', param: 'api_key' })

  test('appends the encoded secret to a target without a query', () => {
    const req = request({}, '/v1/items')

    injectCredential(cred, new SecretValue(RAW), req)

    assert.equal(req.pathAndQuery, `/v1/items?api_key=${ENCODED}`)
  })

  test('drops every agent copy, in any spelling, and keeps the other bytes as sent', () => {
    const sent = '/v1/a%2Fb?api_key=1&q=a+b%20c&API_KEY=2&api%5Fkey=3&api_key&x=%zz&api_key=4'
    const req = request({}, sent)

    injectCredential(cred, new SecretValue(RAW), req)

    assert.equal(req.pathAndQuery, `/v1/a%2Fb?q=a+b%20c&x=%zz&api_key=${ENCODED}`)
  })

  test('keeps unrelated parameters that merely contain the name', () => {
    const req = request({}, '/s?my_api_key=1&api_keys=2&')

    injectCredential(cred, new SecretValue(RAW), req)

    assert.equal(req.pathAndQuery, `/s?my_api_key=1&api_keys=2&api_key=${ENCODED}`)
  })

  test('a query made only of the agent copy ends up holding only ours', () => {
    const req = request({}, '/s?api_key=mine')

    injectCredential(cred, new SecretValue(RAW), req)

    assert.equal(req.pathAndQuery, `/s?api_key=${ENCODED}`)
  })
})

describe('injectCredential: placeholder', () => {
  const cred = credential({ kind: 'placeholder', placeholder: 'TOLLGATE_API' })

  test('swaps the placeholder in every header value and in the path and query', () => {
    const req = request(
      { authorization: 'Bearer TOLLGATE_API', cookie: ['a=TOLLGATE_API', 'b=1'], accept: 'x' },
      '/v1/TOLLGATE_API/items?key=TOLLGATE_API&k2=TOLLGATE_API',
    )

    injectCredential(cred, new SecretValue(RAW), req)

    assert.deepEqual(req.headers, {
      authorization: `Bearer ${RAW}`,
      cookie: [`a=${RAW}`, 'b=1'],
      accept: 'x',
    })
    assert.equal(req.pathAndQuery, `/v1/${ENCODED}/items?key=${ENCODED}&k2=${ENCODED}`)
  })

  test('leaves a request without the placeholder unchanged', () => {
    const req = request({ authorization: 'Bearer other' }, '/v1?x=1')

    const { scrubValues } = injectCredential(cred, new SecretValue(RAW), req)

    assert.deepEqual(req, request({ authorization: 'Bearer other' }, '/v1?x=1'))
    assert.ok(scrubValues.includes(RAW))
  })

  test('refuses a line break that would land in a header', () => {
    const req = request({ 'x-key': 'TOLLGATE_API' })

    assert.throws(() => injectCredential(cred, new SecretValue('a\nb: c'), req), {
      code: 'TOLLGATE_SECRET_UNAVAILABLE',
    })
    assert.deepEqual(req.headers, { 'x-key': 'TOLLGATE_API' })
  })
})

describe('scrubValues', () => {
  test('leaves out forms shorter than 4 characters', () => {
    const cred = credential({ kind: 'header', header: 'x-k', format: '{secret}' })

    const { scrubValues } = injectCredential(cred, new SecretValue('ab'), request())

    assert.deepEqual(scrubValues, [Buffer.from('ab').toString('base64')])
  })

  test('holds each form once', () => {
    const cred = credential({ kind: 'header', header: 'x-k', format: '{secret}' })

    const { scrubValues } = injectCredential(cred, new SecretValue('plainvalue'), request())

    const hex = Buffer.from('plainvalue').toString('hex')
    // The JSON form equals the value itself; the base64 fragments are too short to mask.
    assert.deepEqual(scrubValues, [
      hex,
      hex.toUpperCase(),
      Buffer.from('plainvalue').toString('base64'),
      'plainvalue',
    ])
  })
})

describe('scrubValues are shared per secret and injected value', () => {
  const cred = credential({ kind: 'header', header: 'Authorization', format: 'Bearer {secret}' })

  test('the same list for every request with the same secret, and it cannot be changed', () => {
    const first = injectCredential(cred, new SecretValue(RAW), request()).scrubValues
    const second = injectCredential(cred, new SecretValue(RAW), request()).scrubValues

    assert.equal(first, second)
    assert.ok(Object.isFrozen(first))
    assert.throws(() => (first as string[]).push('x'), TypeError)
  })

  test('a rotated secret or another format gets its own list', () => {
    const before = injectCredential(cred, new SecretValue(RAW), request()).scrubValues
    const rotated = injectCredential(cred, new SecretValue(`${RAW}2`), request()).scrubValues
    const token = credential({ kind: 'header', header: 'Authorization', format: 'Token {secret}' })
    const reformatted = injectCredential(token, new SecretValue(RAW), request()).scrubValues

    assert.ok(rotated.includes(`Bearer ${RAW}2`) && !rotated.includes(`Bearer ${RAW}`))
    assert.ok(reformatted.includes(`Token ${RAW}`) && !reformatted.includes(`Bearer ${RAW}`))
    assert.ok(before.includes(`Bearer ${RAW}`))
  })
})
