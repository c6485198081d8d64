import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

import { isTollgateError } from '../../../../src/errors/tollgate-error.js'
import { parseLeafHost } from '../../../../src/relay/tls/leaf-host.js'

describe('parseLeafHost', () => {
  const accepted: Array<[string, string, 'dns' | 'ip']> = [
    ['API.Example.TEST', 'api.example.test', 'dns'],
    ['api.example.test.', 'api.example.test', 'dns'],
    ['_dmarc.example.com', '_dmarc.example.com', 'dns'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'dns'],
    ['localhost', 'localhost', 'dns'],
    ['127.0.0.1', '127.0.0.1', 'ip'],
    ['[::1]', '::1', 'ip'],
    ['0:0:0:0:0:0:0:1', '::1', 'ip'],
    ['2001:DB8::A', '2001:db8::a', 'ip'],
  ]

  for (const [host, name, kind] of accepted) {
    test(`accepts ${host} as ${kind} ${name}`, () => {
      assert.deepEqual(parseLeafHost(host), { kind, name })
    })
  }

  const refused = [
    '',
    '.',
    '*.example.com',
    'a b.example',
    'exa mple',
    'bücher.example',
    '-lead.example',
    'trail-.example',
    'a..b',
    '127.1',
    '0x7f.1',
    '2130706433',
    'fe80::1%eth0',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(127)}com`,
    'example.com:443',
    'user@example.com',
  ]

  for (const host of refused) {
    test(`refuses ${JSON.stringify(host.slice(0, 40))}`, () => {
      assert.throws(
        () => parseLeafHost(host),
        (error: unknown) => isTollgateError(error) && error.code === 'TOLLGATE_BAD_HOST',
      )
    })
  }
})
