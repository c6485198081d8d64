import { randomBytes } from 'node:crypto'

/**
 * Request ids: a per-process random prefix plus a counter. Unique across relays sharing a store,
 * and far cheaper than a UUID per request.
 */
export class RequestIdGenerator {
  #prefix = randomBytes(6).toString('base64url')
  #counter = 0

  next(): string {
    this.#counter = (this.#counter + 1) % Number.MAX_SAFE_INTEGER
    return `req_${this.#prefix}${this.#counter.toString(36)}`
  }
}
