import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { signalStateChange, watchStateChanges } from '../../../src/store/state-signal.js'
import { waitFor } from '../../helpers/tollgate-harness.js'

describe('state change signal', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tollgate-signal-'))
  const stops: Array<() => void> = []
  after(() => {
    for (const stop of stops) stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('a signal from "another process" reaches the watcher', async () => {
    let calls = 0
    stops.push(watchStateChanges(stateDir, () => calls++))

    signalStateChange(stateDir)
    await waitFor(() => calls > 0, 'the first change signal')

    // Each signal is seen, not only the first one.
    const before = calls
    signalStateChange(stateDir)
    await waitFor(() => calls > before, 'a second change signal')
  })

  test('the signal file is private and carries nothing but a timestamp', () => {
    signalStateChange(stateDir)
    const file = join(stateDir, 'changes.signal')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.match(readFileSync(file, 'utf8'), /^[0-9]+\n$/)
  })

  test('after stop, signals are no longer delivered to that watcher', async () => {
    let stopped = 0
    const stop = watchStateChanges(stateDir, () => stopped++)
    stop()
    stop()

    // A live watcher on the same directory proves the signal was delivered at all.
    let live = 0
    stops.push(watchStateChanges(stateDir, () => live++))
    signalStateChange(stateDir)
    await waitFor(() => live > 0, 'the live watcher')
    assert.equal(stopped, 0)
  })
})
