import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chooseOutput } from '../../../../src/sandbox/terminal/box-output.js'
import {
  PTY_LIFELINE_FD,
  PTY_STDERR_FD,
  ptyLaunch,
  shellQuote,
} from '../../../../src/sandbox/terminal/pty-launch.js'
import { parsePtyRelaySpec, relayStdio } from '../../../../src/sandbox/terminal/pty-relay.js'

describe('chooseOutput', () => {
  const script = '/usr/bin/script'
  test('an interactive run gets a pseudo-terminal; anything else pipes', () => {
    assert.deepEqual(chooseOutput({ stdin: true, stdout: true }, script), { kind: 'pty', script })
    for (const [stdin, stdout] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      assert.deepEqual(chooseOutput({ stdin, stdout }, script), { kind: 'pipe' })
    }
  })

  test('without script(1) an interactive run keeps the terminal and says why', () => {
    const choice = chooseOutput({ stdin: true, stdout: true }, null)
    assert.deepEqual(choice, {
      kind: 'terminal',
      reason: 'script(1) from util-linux is not installed',
    })
  })
})

describe('shellQuote', () => {
  test('gives /bin/sh back the exact word', () => {
    for (const word of ["it's", '$HOME `x` "q"', 'a\nb', '', "''", '--x=$(id)']) {
      const echoed = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], {
        encoding: 'utf8',
      })
      assert.equal(echoed.stdout, word)
    }
  })
})

describe('ptyLaunch and the relay spec', () => {
  const command = { file: '/usr/bin/bwrap', args: ['--info-fd', '4', '--', "it's"] }

  test('runs the relay under script -q -e with no typescript, fds in fixed slots', () => {
    const launch = ptyLaunch(command, {
      script: '/usr/bin/script',
      seccompFd: 17,
      stderrIsTerminal: false,
    })
    assert.equal(launch.file, '/usr/bin/script')
    assert.deepEqual(launch.args.slice(0, 3), ['-q', '-e', '-c'])
    assert.equal(launch.args.at(-1), '/dev/null')
    assert.equal(launch.env['SHELL'], '/bin/sh')
    assert.deepEqual(launch.stdio, ['inherit', 'pipe', 'inherit', 17, 'pipe', 'pipe', 'pipe'])

    // What script(1) hands to /bin/sh -c: exec node MAIN SPEC.
    const words = spawnSync(
      '/bin/sh',
      ['-c', `set -- ${String(launch.args[3]).slice(5)}; printf '%s\\0' "$@"`],
      {
        encoding: 'utf8',
      },
    ).stdout.split('\0')
    assert.equal(words[0], process.execPath)
    assert.match(words[1] ?? '', /terminal\/pty-relay-main\.js$/)
    const spec = parsePtyRelaySpec(words[2] ?? '')
    assert.deepEqual(spec, {
      outerPid: process.pid,
      seccompFd: 3,
      infoFd: 4,
      stderrFd: PTY_STDERR_FD,
      lifelineFd: PTY_LIFELINE_FD,
      file: command.file,
      args: command.args,
    })
    assert.deepEqual(relayStdio(spec), [0, 1, PTY_STDERR_FD, 3, 4])
  })

  test('with stderr on the terminal and no seccomp, those slots are left empty', () => {
    const launch = ptyLaunch(command, { script: 'script', seccompFd: null, stderrIsTerminal: true })
    assert.deepEqual(launch.stdio, [
      'inherit',
      'pipe',
      'inherit',
      'ignore',
      'pipe',
      'ignore',
      'pipe',
    ])
    const spec = {
      outerPid: 1,
      seccompFd: null,
      infoFd: 4,
      stderrFd: null,
      lifelineFd: 6,
      file: 'bwrap',
      args: [],
    }
    assert.deepEqual(relayStdio(spec), [0, 1, 2, 'ignore', 4])
  })

  test('a malformed spec is refused', () => {
    const good = {
      outerPid: 1,
      seccompFd: null,
      infoFd: 4,
      stderrFd: null,
      lifelineFd: 6,
      file: 'b',
      args: [],
    }
    assert.doesNotThrow(() => parsePtyRelaySpec(JSON.stringify(good)))
    for (const bad of [
      { ...good, infoFd: 1 },
      { ...good, args: [1] },
      { ...good, outerPid: 'x' },
      { ...good, seccompFd: 2 },
    ]) {
      assert.throws(() => parsePtyRelaySpec(JSON.stringify(bad)), /malformed/)
    }
    assert.throws(() => parsePtyRelaySpec('not json'))
  })
})
