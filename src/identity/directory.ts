import type { AgentConfig, PersonConfig, TollgateConfig } from '../config/types.js'

/** Who an agent is, and the person and team that answer for it. */
export interface AgentIdentity {
  agent: string
  owner: string
  team: string
}

/**
 * The people and agents of one configuration version, indexed by name. Rebuilt on every reload;
 * an agent removed from the config (or whose owner was removed) stops resolving at once, so its
 * tokens die with it.
 */
export class Directory {
  #agents: Map<string, AgentConfig>
  #people: Map<string, PersonConfig>

  constructor(config: Pick<TollgateConfig, 'agents' | 'people'>) {
    this.#agents = new Map(config.agents.map((a) => [a.name, a]))
    this.#people = new Map(config.people.map((p) => [p.email, p]))
  }

  resolveAgent(name: string): AgentIdentity | null {
    const agent = this.#agents.get(name)
    if (!agent || !this.#people.has(agent.owner)) return null
    return { agent: agent.name, owner: agent.owner, team: agent.team }
  }

  hasAgent(name: string): boolean {
    return this.resolveAgent(name) !== null
  }

  agents(): AgentConfig[] {
    return [...this.#agents.values()]
  }
}
