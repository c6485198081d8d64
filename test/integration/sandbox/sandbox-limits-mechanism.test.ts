import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { linesOf, pollUntil } from '../../helpers/cli.js'
import { detectCgroup2, HOST_PROC_PATHS } from '../../../src/sandbox/cgroup/detect.js'
import { NO_BWRAP, startSandboxWorkspace, type SandboxWorkspace } from './sandbox-workspace.js'

// What this host offers; the development host has cgroup v1 only, so `auto` means rlimits here.
const HOST = detectCgroup2(HOST_PROC_PATHS, ['memory', 'pids'])
const NO_V2_REASON = HOST.usable ? null : HOST.reason

interface Listed {
  id: string
  limits: Record<string, unknown>
}

describe('tollgate run: which mechanism enforces the limits', { skip: NO_BWRAP }, () => {
  let sb: SandboxWorkspace

  const startedEvents = async (): Promise<Array<Record<string, unknown>>> => {
    const exported = await sb.ws.run(['audit', 'export', '--format', 'jsonl'])
    assert.equal(exported.code, 0, exported.stderr)
    return linesOf(exported.stdout)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((event) => event['type'] === 'sandbox.started')
  }

  before(async () => {
    sb = await startSandboxWorkspace()
  })

  after(() => sb.stop())

  test(
    'auto picks rlimits without cgroup v2, in the record, the list and the audit event',
    {
      skip: NO_V2_REASON === null && 'this host offers cgroup v2',
    },
    async () => {
      const wait = 'i=0; until [ -e go ] || [ $i -gt 300 ]; do i=$((i+1)); sleep 0.1; done'
      const running = sb.box(`${wait}; echo done`, ['--memory', '256m'])
      let listed: Listed | undefined
      let early = ''
      void running.then((result) => (early = `exited ${result.code}: ${result.stderr}`))
      await pollUntil(
        async () => {
          assert.equal(early, '', 'the box ended before it was listed')
          const list = await sb.ws.run(['sandbox', 'list', '--json'])
          listed = (JSON.parse(list.stdout) as Listed[])[0]
          return listed !== undefined
        },
        'the running sandbox',
        30_000,
      )
      writeFileSync(join(sb.project, 'go'), '')
      const ran = await running
      assert.equal(ran.code, 0, ran.stderr)
      assert.deepEqual(linesOf(ran.stdout), ['done'])

      const expected = { mechanism: 'rlimit', fallbackReason: NO_V2_REASON, cpus: null }
      assert.deepEqual(pick(listed?.limits), expected)
      assert.equal(listed?.limits['memoryBytes'], 256 * 1024 * 1024)
      const event = (await startedEvents()).find((e) => e['sandbox_id'] === listed?.id)
      const detail = event?.['detail'] as { limits?: Record<string, unknown> } | undefined
      assert.deepEqual(pick(detail?.limits), expected)
    },
  )

  test(
    '--limits-mechanism cgroup2 without cgroup v2 fails before any box starts',
    {
      skip: NO_V2_REASON === null && 'this host offers cgroup v2',
    },
    async () => {
      const before = (await startedEvents()).length
      const result = await sb.box('echo ran', ['--limits-mechanism', 'cgroup2'])
      assert.equal(result.code, 1)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr.trim(),
        'tollgate: TOLLGATE_INVALID_ARGUMENT: --limits-mechanism cgroup2: cgroup v2 is not ' +
          `usable here: ${NO_V2_REASON}`,
      )
      assert.equal((await startedEvents()).length, before, 'no sandbox was registered')
    },
  )

  test(
    '--cpus without cgroup v2 is refused rather than run unlimited',
    {
      skip: NO_V2_REASON === null && 'this host offers cgroup v2',
    },
    async () => {
      const result = await sb.box('echo ran', ['--cpus', '0.5'])
      assert.equal(result.code, 1)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /TOLLGATE_INVALID_ARGUMENT: --cpus needs cgroup v2, but/)
    },
  )

  test('--limits-mechanism rlimit is recorded as asked for', async () => {
    const result = await sb.box('echo ran', ['--limits-mechanism', 'rlimit', '--memory', '256m'])
    assert.equal(result.code, 0, result.stderr)
    const last = (await startedEvents()).at(-1)
    const detail = last?.['detail'] as { limits?: Record<string, unknown> } | undefined
    assert.deepEqual(pick(detail?.limits), {
      mechanism: 'rlimit',
      fallbackReason: 'asked for with --limits-mechanism rlimit',
      cpus: null,
    })
  })

  test('an unknown mechanism is a usage error', async () => {
    const result = await sb.box('echo ran', ['--limits-mechanism', 'cgroup1'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /cgroup1.*Allowed choices are auto, cgroup2, rlimit/s)
  })

  test('run --help says which mechanism applies where', async () => {
    const help = await sb.ws.run(['run', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--limits-mechanism <how>/)
    assert.match(help.stdout, /--memory +cgroup2: memory\.max of the whole box/)
    assert.match(help.stdout, /rlimit: +RLIMIT_AS/)
  })
})

function pick(limits: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    mechanism: limits?.['mechanism'],
    fallbackReason: limits?.['fallbackReason'],
    cpus: limits?.['cpus'],
  }
}
