import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { runCli } from '../../helpers/cli.js'

// main.ts loads only the command asked for; these check that nothing is lost by it.
describe('the tollgate entry point', () => {
  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `${pkg.version}\n`)
    }
  })

  test('--help lists every command', async () => {
    const result = await runCli(['--help'])
    assert.equal(result.code, 0, result.stderr)
    for (const name of ['init', 'serve', 'ca', 'token', 'secret', 'agent', 'policy', 'audit']) {
      assert.match(result.stdout, new RegExp(`^  ${name}\\b`, 'm'))
    }
    assert.match(result.stdout, /^ {2}run \[options\]/m)
    assert.match(result.stdout, /^ {2}sandbox\b/m)
  })

  test('a mistyped command is refused with a suggestion, exit 2', async () => {
    const result = await runCli(['tokn', 'list'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /unknown command 'tokn'/)
    assert.match(result.stderr, /Did you mean token\?/)
  })

  test('a command after the global --config option is still found', async () => {
    const result = await runCli(['--config', 'missing.yaml', 'token', '--help'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /Usage: tollgate token/)
  })
})
