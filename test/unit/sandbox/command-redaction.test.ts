import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  isSecretName,
  redactCommand,
  redactValues,
} from '../../../src/sandbox/command-redaction.js'

const GITHUB_TOKEN = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4'
const OPENAI_KEY = 'sk-proj-' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3'
const AWS_KEY_ID = 'AKIA' + 'ABCDEFGHIJKLMNOP'
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXZhbHVl'

describe('redactCommand', () => {
  const cases: Array<[string, string[], string[]]> = [
    [
      'an option with a secret name takes the next argument',
      ['cli', '--token', 'abc123'],
      ['cli', '--token', 'REDACTED'],
    ],
    [
      'an option=value with a secret name',
      ['cli', '--api-key=abc123', '--db-password=x'],
      ['cli', '--api-key=REDACTED', '--db-password=REDACTED'],
    ],
    [
      'a variable assignment with a secret name',
      ['env', 'OPENAI_API_KEY=abc', 'GH_PAT=def', 'LANG=C', 'cmd'],
      ['env', 'OPENAI_API_KEY=REDACTED', 'GH_PAT=REDACTED', 'LANG=C', 'cmd'],
    ],
    [
      'a secret header for curl -H',
      ['curl', '-H', 'Authorization: Bearer abc.def', '-H', 'X-Api-Key: k1', '-H', 'Accept: */*'],
      ['curl', '-H', 'Authorization: REDACTED', '-H', 'X-Api-Key: REDACTED', '-H', 'Accept: */*'],
    ],
    [
      '-u user:password keeps the user',
      ['curl', '-u', 'robot:hunter2', 'https://x.test/'],
      ['curl', '-u', 'robot:REDACTED', 'https://x.test/'],
    ],
    [
      'a password in a URL keeps the user',
      ['git', 'clone', 'https://bot:s3cr3t@git.test/r.git'],
      ['git', 'clone', 'https://bot:REDACTED@git.test/r.git'],
    ],
    [
      'every query value of a URL, as in audit paths',
      ['curl', 'https://x.test/a?page=2&sig=abc#top'],
      ['curl', 'https://x.test/a?page=REDACTED&sig=REDACTED#top'],
    ],
    [
      'token formats wherever they are',
      ['tool', GITHUB_TOKEN, `--x=${OPENAI_KEY}`, `id:${AWS_KEY_ID}`, JWT],
      ['tool', 'REDACTED', '--x=REDACTED', 'id:REDACTED', 'REDACTED'],
    ],
    [
      'a token used as a URL user',
      ['git', 'clone', `https://${GITHUB_TOKEN}@github.com/o/r`],
      ['git', 'clone', 'https://REDACTED@github.com/o/r'],
    ],
    [
      'ordinary arguments stay',
      ['python', 'agent.py', '--model', 'gpt-4o', '--author', 'Ada', 'key.txt'],
      ['python', 'agent.py', '--model', 'gpt-4o', '--author', 'Ada', 'key.txt'],
    ],
    [
      'a secret option hides the next argument, even one that looks like an option',
      ['cli', '--password', '-starts-with-dash'],
      ['cli', '--password', 'REDACTED'],
    ],
  ]
  for (const [name, command, expected] of cases) {
    test(name, () => assert.deepEqual(redactCommand(command), expected))
  }

  test('the same rules apply inside a sh -c script', () => {
    const script = [
      `curl -s -H "Authorization: Bearer abc123" https://x.test/v1?key=k`,
      `API_TOKEN='two words' ./run --password hunter2 --name ok`,
      `echo ${GITHUB_TOKEN}`,
    ].join('; ')
    const [, , redacted] = redactCommand(['sh', '-c', script])
    assert.equal(
      redacted,
      [
        `curl -s -H "Authorization: REDACTED" https://x.test/v1?key=REDACTED`,
        `API_TOKEN=REDACTED ./run --password REDACTED --name ok`,
        'echo REDACTED',
      ].join('; '),
    )
  })

  test('leaves the given array alone', () => {
    const command = ['cli', '--token', 'abc']
    redactCommand(command)
    assert.deepEqual(command, ['cli', '--token', 'abc'])
  })
})

describe('isSecretName', () => {
  test('secret fragments anywhere, secret words whole', () => {
    for (const name of [
      'GITHUB_TOKEN',
      '--apikey',
      'dbPassword',
      'X-Api-Key',
      'AUTH',
      '--pass',
      'client_secret',
      'Cookie',
    ]) {
      assert.ok(isSecretName(name), name)
    }
    for (const name of ['--author', 'PATH', 'keyboard', '--passive', 'MONKEY', 'LANG', 'page']) {
      assert.ok(!isSecretName(name), name)
    }
  })
})

describe('redactValues', () => {
  const stored = 'plain-looking-value-4821'

  test('replaces a stored value and its encodings wherever they stand', () => {
    const base64 = Buffer.from(stored).toString('base64')
    const command = ['agent', stored, `--note=${stored}!`, `echo ${base64}`, 'keep me']
    assert.deepEqual(redactValues(command, [stored]), [
      'agent',
      'REDACTED',
      '--note=REDACTED!',
      'echo REDACTED',
      'keep me',
    ])
  })

  test('ignores values too short to tell from ordinary words', () => {
    assert.deepEqual(redactValues(['ls', '-la', 'abc'], ['abc', 'la']), ['ls', '-la', 'abc'])
  })

  test('without values the command is kept, as a copy', () => {
    const command = ['cli', 'x']
    const out = redactValues(command, [])
    assert.deepEqual(out, command)
    assert.notEqual(out, command)
  })
})
