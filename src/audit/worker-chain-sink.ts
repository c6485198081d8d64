import { Worker } from 'node:worker_threads'
import type { ChainSink } from './chain-sink.js'
import type { PreparedEvent } from './chain-writer.js'

interface Pending {
  resolve: () => void
  reject: (error: Error) => void
}

interface Reply {
  id: number
  ok: boolean
  reason?: string
}

/**
 * Appends batches on a worker thread with its own database connection. While the worker waits
 * for the disk, the relay keeps serving and the next batch grows: group commit without
 * blocking. If the worker dies, every batch in flight is rejected (the requests waiting on them
 * are refused) and the next append starts a fresh worker.
 */
export class WorkerChainSink implements ChainSink {
  readonly #path: string
  #worker: Worker | null = null
  #pending = new Map<number, Pending>()
  #nextId = 1

  constructor(databasePath: string) {
    this.#path = databasePath
  }

  append(events: readonly PreparedEvent[], time: Date): Promise<void> {
    const worker = this.#worker ?? this.#start()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      worker.postMessage({ id, events, time: time.toISOString() })
    })
  }

  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = null
    if (worker) await worker.terminate()
  }

  #start(): Worker {
    const worker = new Worker(new URL('./chain-worker.js', import.meta.url), {
      workerData: { path: this.#path },
    })
    worker.on('message', (reply: Reply) => this.#settle(reply))
    worker.on('error', (error) => this.#failAll(error))
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null
      this.#failAll(new Error('the audit writer stopped'))
    })
    worker.unref()
    this.#worker = worker
    return worker
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.id)
    if (!pending) return
    this.#pending.delete(reply.id)
    if (reply.ok) pending.resolve()
    else pending.reject(new Error(reply.reason ?? 'audit append failed'))
  }

  #failAll(error: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(error)
  }
}
