import type { CredentialConfig, LoadedConfig, RouteConfig } from '../config/types.js'
import { Directory } from '../identity/directory.js'
import { PolicyEngine } from '../policy/engine.js'

/**
 * Everything the relay derives from one configuration version. Built whole, then swapped in
 * with a single assignment, so a request sees either the old version or the new one, never a mix.
 */
export interface RelayState {
  /** The config hash, recorded on every audit event as the policy version. */
  version: string
  loaded: LoadedConfig
  engine: PolicyEngine
  directory: Directory
  credentials: Map<string, CredentialConfig>
  /** The credentials injected by placeholder swap: every request is searched for these. */
  placeholders: readonly CredentialConfig[]
  routes: Map<string, RouteConfig>
}

export function buildRelayState(loaded: LoadedConfig): RelayState {
  const { config } = loaded
  return {
    version: loaded.hash,
    loaded,
    engine: PolicyEngine.compile(config.policies, config.agents),
    directory: new Directory(config),
    credentials: new Map(config.credentials.map((c) => [c.name, c])),
    placeholders: config.credentials.filter((c) => c.inject.kind === 'placeholder'),
    routes: new Map(config.routes.map((r) => [r.name, r])),
  }
}

/** Holds the current state; the config watcher replaces it, requests read it. */
export class RelayStateHolder {
  #current: RelayState

  constructor(initial: RelayState) {
    this.#current = initial
  }

  get current(): RelayState {
    return this.#current
  }

  replace(next: RelayState): void {
    this.#current = next
  }
}
