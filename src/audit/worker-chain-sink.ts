import { Worker } from 'node:worker_threads'
import type { ChainSink } from './chain-sink.js'

interface Pending<T> {
  resolve: (value: T) => void
  reject: (error: Error) => void
}

interface Reply {
  id: number
  ok: boolean
  reason?: string
  value?: unknown
}

/**
 * Appends batches on a worker thread with its own database connection. While the worker waits
 * for the disk, the relay keeps serving and the next batch grows: group commit without
 * blocking. If the worker dies, every batch in flight is rejected (the requests waiting on them
 * are refused) and the next append starts a fresh worker.
 */
export class WorkerChainSink implements ChainSink {
  readonly #path: string
  readonly #durable: boolean
  #worker: Worker | null = null
  #pending = new Map<number, Pending<unknown>>()
  #nextId = 1

  /** `durable: false` commits without fsync (`server.audit.durability: process`). */
  constructor(databasePath: string, options: { durable?: boolean } = {}) {
    this.#path = databasePath
    this.#durable = options.durable ?? true
  }

  append(tails: readonly string[], time: Date): Promise<void> {
    // A tail is canonical JSON, which never holds a raw line break: one line per event.
    return this.#ask<void>({ tails: tails.join('\n'), time: time.toISOString() })
  }

  /** The writer connection's `PRAGMA synchronous` (2: FULL, 1: NORMAL), for tests and checks. */
  synchronousLevel(): Promise<number> {
    return this.#ask<number>({ describe: true })
  }

  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = null
    if (worker) await worker.terminate()
  }

  #ask<T>(message: object): Promise<T> {
    const worker = this.#worker ?? this.#start()
    const id = this.#nextId++
    // Idle, the worker must not keep the process alive; with an answer owed, it must.
    if (this.#pending.size === 0) worker.ref()
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      worker.postMessage({ id, ...message })
    })
  }

  #start(): Worker {
    const worker = new Worker(new URL('./chain-worker.js', import.meta.url), {
      workerData: { path: this.#path, durable: this.#durable },
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
    if (this.#pending.size === 0) this.#worker?.unref()
    if (reply.ok) pending.resolve(reply.value)
    else pending.reject(new Error(reply.reason ?? 'audit append failed'))
  }

  #failAll(error: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(error)
  }
}
