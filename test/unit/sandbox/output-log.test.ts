import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { capMarker, OutputLog, outputLogPath } from '../../../src/sandbox/output-log.js'
import { printOutputLog } from '../../../src/sandbox/output-log-reader.js'
import { clearStoppedSandboxes } from '../../../src/sandbox/sandbox-dirs.js'

const dir = mkdtempSync(join(tmpdir(), 'tollgate-output-log-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
const freshPath = () => join(dir, `log-${++counter}`)

describe('OutputLog', () => {
  test('is created 0600 and refuses to reuse an existing file', () => {
    const path = freshPath()
    new OutputLog(path).close()
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.throws(() => new OutputLog(path), /EEXIST/)
  })

  test('keeps chunks in order up to the cap, then one marker line, then nothing', () => {
    const path = freshPath()
    const log = new OutputLog(path, 10)
    log.write(Buffer.from('abcd'))
    log.write(Buffer.from('efghijkl'))
    log.write(Buffer.from('mnop'))
    log.close()
    assert.equal(readFileSync(path, 'utf8'), `abcdefghij${capMarker(10)}`)
  })

  test('a chunk that ends exactly at the cap is followed by the marker only when more comes', () => {
    const exact = freshPath()
    const log = new OutputLog(exact, 4)
    log.write(Buffer.from('abcd'))
    log.close()
    assert.equal(readFileSync(exact, 'utf8'), 'abcd')

    const more = freshPath()
    const next = new OutputLog(more, 4)
    next.write(Buffer.from('abcd'))
    next.write(Buffer.from('e'))
    next.write(Buffer.from('f'))
    next.close()
    assert.equal(readFileSync(more, 'utf8'), `abcd${capMarker(4)}`)
  })
})

describe('outputLogPath', () => {
  test('only a well-formed sandbox id becomes a path', () => {
    assert.equal(
      outputLogPath('/state', 'sbx_0123456789abcdef'),
      '/state/sandboxes/sbx_0123456789abcdef/output.log',
    )
    for (const id of ['../../etc', 'sbx_0123456789abcdef/../x', 'sbx_XYZ', '']) {
      assert.throws(() => outputLogPath('/state', id), /TOLLGATE_NOT_FOUND|no sandbox/)
    }
  })
})

describe('printOutputLog', () => {
  const collect = () => {
    const chunks: Buffer[] = []
    return { chunks, sink: (chunk: Buffer) => Promise.resolve(void chunks.push(chunk)) }
  }

  test('prints the whole log once without following', async () => {
    const sandbox = join(dir, 'sbx_1111111111111111')
    mkdirSync(sandbox)
    writeFileSync(join(sandbox, 'output.log'), 'line one\nline two\n')
    const { chunks, sink } = collect()
    await printOutputLog(join(sandbox, 'output.log'), sink, null)
    assert.equal(Buffer.concat(chunks).toString(), 'line one\nline two\n')
  })

  test('following reads what was appended before the sandbox was seen stopped', async () => {
    const sandbox = join(dir, 'sbx_2222222222222222')
    mkdirSync(sandbox)
    const path = join(sandbox, 'output.log')
    writeFileSync(path, 'first\n')
    let checks = 0
    // The second check appends and reports the stop, as `tollgate run` closes then unregisters.
    const isRunning = () => {
      checks++
      if (checks === 2) writeFileSync(path, 'last\n', { flag: 'a' })
      return Promise.resolve(checks < 2)
    }
    const { chunks, sink } = collect()
    await printOutputLog(path, sink, isRunning)
    assert.equal(Buffer.concat(chunks).toString(), 'first\nlast\n')
  })

  test('an unknown sandbox and one whose log is not there yet get different errors', async () => {
    const { sink } = collect()
    await assert.rejects(
      printOutputLog(join(dir, 'sbx_3333333333333333', 'output.log'), sink, null),
      /no sandbox sbx_3333333333333333/,
    )
    mkdirSync(join(dir, 'sbx_4444444444444444'))
    await assert.rejects(
      printOutputLog(join(dir, 'sbx_4444444444444444', 'output.log'), sink, null),
      /sbx_4444444444444444 has no output log yet/,
    )
  })
})

describe('clearStoppedSandboxes', () => {
  test('stopped sandboxes keep only their log; running ones are untouched', () => {
    const root = join(dir, 'clear')
    for (const id of ['sbx_a', 'sbx_b', 'sbx_c']) {
      mkdirSync(join(root, id), { recursive: true })
      writeFileSync(join(root, id, 'relay.sock'), '')
      writeFileSync(join(root, id, 'ca.pem'), '')
    }
    writeFileSync(join(root, 'sbx_a', 'output.log'), 'a')
    writeFileSync(join(root, 'sbx_b', 'output.log'), 'b')

    clearStoppedSandboxes(root, (id) => id === 'sbx_b')
    assert.deepEqual(readdirSync(join(root, 'sbx_a')), ['output.log'])
    assert.deepEqual(readdirSync(join(root, 'sbx_b')).sort(), [
      'ca.pem',
      'output.log',
      'relay.sock',
    ])
    assert.ok(!existsSync(join(root, 'sbx_c')), 'a stopped sandbox without a log stays')
  })

  test('only the newest logs beyond the limit are kept', () => {
    const root = join(dir, 'prune')
    for (const [i, id] of ['sbx_old', 'sbx_mid', 'sbx_new'].entries()) {
      mkdirSync(join(root, id), { recursive: true })
      writeFileSync(join(root, id, 'output.log'), id)
      utimesSync(join(root, id, 'output.log'), 1000 + i, 1000 + i)
    }
    clearStoppedSandboxes(root, () => false, 2)
    assert.deepEqual(readdirSync(root).sort(), ['sbx_mid', 'sbx_new'])
  })
})
