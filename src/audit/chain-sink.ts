import type { Database } from '../store/database.js'
import { ChainWriter, preparedFromTail } from './chain-writer.js'

/**
 * Where a batch of prepared events is appended to the hash chain. The relay uses the worker
 * sink so that the commit's fsync never blocks request handling; the CLI and tests use the
 * inline one.
 */
export interface ChainSink {
  /**
   * Appends events given as their tails (`canonicalTail`: the canonical JSON minus seq and
   * time). Resolves once the batch is durable; rejects if it was not written.
   */
  append(tails: readonly string[], time: Date): Promise<void>
  close(): Promise<void>
}

/** Appends on the calling thread: simple, and fine when nothing else waits on the loop. */
export class InlineChainSink implements ChainSink {
  readonly #writer: ChainWriter

  constructor(db: Database) {
    this.#writer = new ChainWriter(db)
  }

  append(tails: readonly string[], time: Date): Promise<void> {
    try {
      this.#writer.append(tails.map(preparedFromTail), time)
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
