import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from '../store/database.js'
import { ChainWriter, type PreparedEvent } from './chain-writer.js'

/**
 * The audit writer thread: its own connection to the store, one transaction per batch. Kept
 * off the relay's thread because a durable commit waits for the disk, and the relay must go on
 * accepting and forwarding while it does.
 */
interface AppendMessage {
  id: number
  events: PreparedEvent[]
  time: string
}

const { path } = workerData as { path: string }
const db = openDatabase(path)
const writer = new ChainWriter(db)

parentPort?.on('message', (message: AppendMessage) => {
  try {
    writer.append(message.events, new Date(message.time))
    parentPort?.postMessage({ id: message.id, ok: true })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    parentPort?.postMessage({ id: message.id, ok: false, reason })
  }
})
