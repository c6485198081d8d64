import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'

import { isConfigError } from '../../../src/config/config-error.js'
import { loadConfigFile } from '../../../src/config/load.js'
import type { LoadedConfig } from '../../../src/config/types.js'
import { ConfigWatcher } from '../../../src/config/watcher.js'
import type { TollgateError } from '../../../src/errors/tollgate-error.js'
import { BASE, baseWith, validator } from './config-fixtures.js'

const VALID = BASE.join('\n') + '\n'
const CHANGED = baseWith({ 14: '        hosts: [api.github.com]\n        methods: [GET]' })
const INVALID = baseWith({ 9: '    polices: [p]' })

/** Records callbacks and lets a test wait for the next one, failing after a bounded time. */
class Recorder {
  readonly changes: LoadedConfig[] = []
  readonly errors: TollgateError[] = []
  #waiters: Array<() => void> = []

  onChange = (loaded: LoadedConfig): void => this.#record(() => this.changes.push(loaded))
  onError = (error: TollgateError): void => this.#record(() => this.errors.push(error))

  next(what: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  #record(push: () => void): void {
    push()
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}

void describe('ConfigWatcher', () => {
  let dir: string
  let file: string
  let recorder: Recorder
  let watcher: ConfigWatcher

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-watch-'))
    file = join(dir, 'tollgate.yaml')
    writeFileSync(file, VALID)
    recorder = new Recorder()
    watcher = new ConfigWatcher(file, {
      onChange: recorder.onChange,
      onError: recorder.onError,
      debounceMs: 20,
      current: loadConfigFile(file, { validator }),
      validator,
    })
  })

  afterEach(() => {
    watcher.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  void test('a valid change is applied with its new hash', async () => {
    const before = watcher.current?.hash
    watcher.start()

    const changed = recorder.next('onChange')
    writeFileSync(file, CHANGED)
    await changed

    const loaded = recorder.changes.at(-1)
    assert.notEqual(loaded?.hash, before)
    assert.equal(loaded?.hash, loadConfigFile(file, { validator }).hash)
    assert.deepEqual(loaded?.config.policies[0]?.rules[0]?.methods, ['GET'])
    assert.equal(watcher.current, loaded)
  })

  void test('an invalid change is refused and the previous configuration stays', async () => {
    const before = watcher.current
    watcher.start()

    const refused = recorder.next('onError')
    writeFileSync(file, INVALID)
    await refused

    const [error] = recorder.errors
    assert.ok(isConfigError(error))
    assert.match(error.format(), /tollgate\.yaml:9:5: agents\[0\]: unknown key "polices"/)
    assert.equal(recorder.changes.length, 0)
    assert.equal(watcher.current, before)
  })

  void test('a file replaced by rename is seen', async () => {
    watcher.start()

    const changed = recorder.next('onChange')
    const temporary = join(dir, '.tollgate.yaml.swp')
    writeFileSync(temporary, CHANGED)
    renameSync(temporary, file)
    await changed

    assert.deepEqual(recorder.changes.at(-1)?.config.policies[0]?.rules[0]?.methods, ['GET'])
  })

  void test('other files in the directory are ignored', async () => {
    watcher.start()

    writeFileSync(join(dir, 'other.yaml'), INVALID)
    const changed = recorder.next('onChange')
    writeFileSync(file, CHANGED)
    await changed

    assert.equal(recorder.errors.length, 0)
    assert.equal(recorder.changes.length, 1)
  })

  void test('reload() reports unchanged, applied and rejected', () => {
    assert.equal(watcher.reload(), 'unchanged')
    assert.equal(recorder.changes.length, 0)

    writeFileSync(file, CHANGED)
    assert.equal(watcher.reload(), 'applied')
    assert.equal(recorder.changes.length, 1)

    writeFileSync(file, INVALID)
    assert.equal(watcher.reload(), 'rejected')
    assert.equal(recorder.errors.length, 1)
    assert.equal(watcher.current, recorder.changes[0])
  })

  void test('a deleted file is rejected with TOLLGATE_CONFIG_NOT_FOUND', () => {
    rmSync(file)
    assert.equal(watcher.reload(), 'rejected')
    assert.equal(recorder.errors[0]?.code, 'TOLLGATE_CONFIG_NOT_FOUND')
  })

  void test('without a current configuration, start() loads the file once', () => {
    const fresh = new Recorder()
    const cold = new ConfigWatcher(file, {
      onChange: fresh.onChange,
      onError: fresh.onError,
      validator,
    })

    cold.start()
    cold.stop()

    assert.equal(fresh.changes.length, 1)
    assert.equal(cold.current, fresh.changes[0])
  })
})
