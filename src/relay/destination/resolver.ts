import { lookup } from 'node:dns/promises'
import { Resolver } from 'node:dns/promises'

/** Resolves a host name to every address it has; each new upstream connection asks again. */
export interface HostResolver {
  resolve(host: string): Promise<string[]>
}

/** The system resolver (`/etc/hosts`, nsswitch), as every other program on the machine sees it. */
export class SystemResolver implements HostResolver {
  async resolve(host: string): Promise<string[]> {
    const answers = await lookup(host, { all: true, verbatim: true })
    return answers.map((answer) => answer.address)
  }
}

/**
 * Asks the given DNS servers directly (A and AAAA), bypassing `/etc/hosts` and the system
 * cache. For relays whose agents must see a different view of DNS than the host, and for tests.
 */
export class ServerResolver implements HostResolver {
  readonly #resolver: Resolver

  constructor(servers: readonly string[], timeoutMs: number) {
    this.#resolver = new Resolver({ timeout: timeoutMs, tries: 2 })
    this.#resolver.setServers([...servers])
  }

  async resolve(host: string): Promise<string[]> {
    const [v4, v6] = await Promise.all([
      this.#family(this.#resolver.resolve4(host)),
      this.#family(this.#resolver.resolve6(host)),
    ])
    const all = [...v4, ...v6]
    if (all.length === 0) throw Object.assign(new Error('no address'), { code: 'ENOTFOUND' })
    return all
  }

  // A name with only A records answers AAAA queries with "no data": not an error for the name.
  async #family(query: Promise<string[]>): Promise<string[]> {
    try {
      return await query
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'ENODATA' || code === 'ENOTFOUND') return []
      throw err
    }
  }
}
