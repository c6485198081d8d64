import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from '../store/database.js'
import { ChainWriter, preparedFromTail } from './chain-writer.js'

/**
 * The audit writer thread: its own connection to the store, one transaction per batch. Kept
 * off the relay's thread because a durable commit waits for the disk, and the relay must go on
 * accepting and forwarding while it does.
 */
type Message = { id: number } & ({ tails: string; time: string } | { describe: true })

const { path, durable } = workerData as { path: string; durable: boolean }
const db = openDatabase(path, { durable })
const writer = new ChainWriter(db)

parentPort?.on('message', (message: Message) => {
  try {
    if ('describe' in message) {
      const value = db.pragma('synchronous', { simple: true }) as number
      parentPort?.postMessage({ id: message.id, ok: true, value })
      return
    }
    writer.append(message.tails.split('\n').map(preparedFromTail), new Date(message.time))
    parentPort?.postMessage({ id: message.id, ok: true })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    parentPort?.postMessage({ id: message.id, ok: false, reason })
  }
})
