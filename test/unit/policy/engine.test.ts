import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { RuleConfig } from '../../../src/config/types.js'
import { engineFor, policy, request, rule } from './fixtures.js'

interface Row {
  name: string
  rules: RuleConfig[]
  request: string
  expected: 'allow' | 'deny'
  /** Expected deciding rule name within policy `p`, or null. */
  rule: string | null
}

// One policy `p` per row; each row is read as "with these rules, this request is …".
const ROWS: Row[] = [
  row(
    'exact host',
    [rule('r', { hosts: ['api.github.com'] })],
    'GET https://api.github.com/x',
    'allow',
    'r',
  ),
  row(
    'exact host, other host',
    [rule('r', { hosts: ['api.github.com'] })],
    'GET https://github.com/x',
    'deny',
    null,
  ),
  row(
    'suffix, subdomain',
    [rule('r', { hosts: ['*.github.com'] })],
    'GET https://api.github.com/',
    'allow',
    'r',
  ),
  row(
    'suffix, deep subdomain',
    [rule('r', { hosts: ['*.github.com'] })],
    'GET https://a.b.github.com/',
    'allow',
    'r',
  ),
  row(
    'suffix, apex',
    [rule('r', { hosts: ['*.github.com'] })],
    'GET https://github.com/',
    'deny',
    null,
  ),
  row(
    'suffix, look-alike',
    [rule('r', { hosts: ['*.github.com'] })],
    'GET https://evilgithub.com/',
    'deny',
    null,
  ),
  row('any host', [rule('r', { hosts: ['*'] })], 'GET https://whatever.example/', 'allow', 'r'),
  row('any host, IPv6', [rule('r', { hosts: ['*'] })], 'GET https://[::1]/', 'allow', 'r'),
  row('default port', [rule('r')], 'GET https://api.example.com:443/', 'allow', 'r'),
  row('non-default port', [rule('r')], 'GET https://api.example.com:8443/', 'deny', null),
  row(
    'explicit port',
    [rule('r', { ports: [8443] })],
    'GET https://api.example.com:8443/',
    'allow',
    'r',
  ),
  row(
    'explicit port excludes default',
    [rule('r', { ports: [8443] })],
    'GET https://api.example.com/',
    'deny',
    null,
  ),
  row('http not in schemes', [rule('r')], 'GET http://api.example.com/', 'deny', null),
  row(
    'http in schemes, port 80',
    [rule('r', { schemes: ['http'] })],
    'GET http://api.example.com/',
    'allow',
    'r',
  ),
  row(
    'both schemes, default ports',
    [rule('r', { schemes: ['http', 'https'] })],
    'GET http://api.example.com:443/',
    'deny',
    null,
  ),
  row(
    'method listed',
    [rule('r', { methods: ['GET', 'HEAD'] })],
    'HEAD https://api.example.com/',
    'allow',
    'r',
  ),
  row(
    'method not listed',
    [rule('r', { methods: ['GET'] })],
    'POST https://api.example.com/',
    'deny',
    null,
  ),
  row(
    'lower-case method in config',
    [rule('r', { methods: ['get'] })],
    'GET https://api.example.com/',
    'allow',
    'r',
  ),
  row(
    'path exact',
    [rule('r', { paths: ['/user'] })],
    'GET https://api.example.com/user',
    'allow',
    'r',
  ),
  row(
    'path exact, child',
    [rule('r', { paths: ['/user'] })],
    'GET https://api.example.com/user/x',
    'deny',
    null,
  ),
  row(
    'path star in segment',
    [rule('r', { paths: ['/repos/*'] })],
    'GET https://api.example.com/repos/a',
    'allow',
    'r',
  ),
  row(
    'path star across slash',
    [rule('r', { paths: ['/repos/*'] })],
    'GET https://api.example.com/repos/a/b',
    'deny',
    null,
  ),
  row(
    'path double star',
    [rule('r', { paths: ['/repos/**'] })],
    'GET https://api.example.com/repos/a/b',
    'allow',
    'r',
  ),
  row(
    'path double star, parent',
    [rule('r', { paths: ['/repos/**'] })],
    'GET https://api.example.com/repos',
    'allow',
    'r',
  ),
  row(
    'path, query ignored',
    [rule('r', { paths: ['/search'] })],
    'GET https://api.example.com/search?q=1',
    'allow',
    'r',
  ),
  row(
    'second path of a rule',
    [rule('r', { paths: ['/a', '/b/**'] })],
    'GET https://api.example.com/b/c',
    'allow',
    'r',
  ),
  row(
    'deny beats an earlier allow',
    [rule('open'), rule('shut', { effect: 'deny', paths: ['/admin/**'] })],
    'GET https://api.example.com/admin/x',
    'deny',
    'shut',
  ),
  row(
    'first allow by rule order',
    [rule('narrow', { paths: ['/a/**'] }), rule('wide')],
    'GET https://api.example.com/a/b',
    'allow',
    'narrow',
  ),
  row(
    'exact rule declared after a suffix rule does not win',
    [rule('suffix', { hosts: ['*.example.com'] }), rule('exact')],
    'GET https://api.example.com/',
    'allow',
    'suffix',
  ),
  row(
    'any-host rule declared first wins over an exact one',
    [rule('any', { hosts: ['*'] }), rule('exact')],
    'GET https://api.example.com/',
    'allow',
    'any',
  ),
]

function row(
  name: string,
  rules: RuleConfig[],
  line: string,
  expected: 'allow' | 'deny',
  ruleName: string | null,
): Row {
  return { name, rules, request: line, expected, rule: ruleName }
}

void describe('PolicyEngine.decide, single policy', () => {
  for (const r of ROWS) {
    void test(r.name, () => {
      const decision = engineFor(policy('p', r.rules)).decide('bot', request(r.request))

      assert.equal(decision.kind, r.expected)
      assert.equal(decision.rule?.id ?? null, r.rule === null ? null : `p/${r.rule}`)
      const code = r.rule === null ? 'TOLLGATE_POLICY_NO_MATCH' : 'TOLLGATE_POLICY_DENIED'
      assert.equal(decision.code, r.expected === 'allow' ? null : code)
    })
  }
})
