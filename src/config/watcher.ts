import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'

import { isTollgateError, TollgateError } from '../errors/tollgate-error.js'
import type { Logger } from '../observability/logger.js'
import type { ConfigError } from './config-error.js'
import { loadConfigFile } from './load.js'
import { SchemaValidator } from './schema-validator.js'
import type { LoadedConfig } from './types.js'

/** What a reload did: installed a new configuration, found nothing new, or refused the file. */
export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected'

export interface ConfigWatcherOptions {
  /** Called with each new valid configuration, in order. */
  onChange(loaded: LoadedConfig): void
  /** Called when a changed file is refused; the previous configuration stays in force. */
  onError(error: ConfigError | TollgateError): void
  /** Quiet time after the last file event before reloading. Default 200 ms. */
  debounceMs?: number
  logger?: Logger
  /**
   * The configuration currently served. Changes are compared against it; without it, `start()`
   * loads the file once and reports the result through `onChange` or `onError`.
   */
  current?: LoadedConfig
  /** A compiled schema to reuse across reloads. */
  validator?: SchemaValidator
}

/**
 * Reloads `tollgate.yaml` when it changes, and on demand (SIGHUP). A file that does not load is
 * refused with every issue reported, and the caller keeps serving the previous configuration:
 * a typo must never open or close the gate by accident.
 *
 * The directory is watched rather than the file because editors save by writing a new file
 * and renaming it over the old one, which ends a watch on the old file.
 */
export class ConfigWatcher {
  readonly #path: string
  readonly #options: ConfigWatcherOptions
  readonly #validator: SchemaValidator
  #current: LoadedConfig | null
  #watcher: FSWatcher | null = null
  #timer: NodeJS.Timeout | null = null

  constructor(path: string, options: ConfigWatcherOptions) {
    this.#path = resolve(path)
    this.#options = options
    this.#validator = options.validator ?? new SchemaValidator()
    this.#current = options.current ?? null
  }

  /** The configuration in force, or null before one has loaded. */
  get current(): LoadedConfig | null {
    return this.#current
  }

  /** Starts watching. Calling it again while started does nothing. */
  start(): void {
    if (this.#watcher) return

    // persistent: false, so a watcher alone never keeps the process alive after shutdown.
    this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, name) =>
      this.#onFileEvent(name),
    )
    this.#watcher.on('error', (error) => this.#onWatchError(error))
    if (!this.#current) this.reload()
  }

  /** Stops watching and drops a pending reload. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#watcher?.close()
    this.#watcher = null
  }

  /**
   * Loads the file now. `unchanged` when it is byte-identical and resolves to the same
   * configuration (a CA file named in it may have changed, so the hash alone is not enough).
   */
  reload(): ReloadOutcome {
    let loaded: LoadedConfig
    try {
      loaded = loadConfigFile(this.#path, { validator: this.#validator })
    } catch (error) {
      this.#reject(asConfigFailure(error))
      return 'rejected'
    }

    if (this.#current && isSameConfig(this.#current, loaded)) return 'unchanged'
    this.#current = loaded
    this.#options.logger?.info(
      { event: 'config_reload', policyVersion: loaded.hash },
      'configuration applied',
    )
    this.#options.onChange(loaded)
    return 'applied'
  }

  #onFileEvent(name: string | Buffer | null): void {
    // Some platforms report no file name; then any event in the directory may be ours.
    if (name !== null && name.toString() !== basename(this.#path)) return

    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#reloadFromEvent(), this.#options.debounceMs ?? 200)
  }

  #reloadFromEvent(): void {
    this.#timer = null
    try {
      this.reload()
    } catch (error) {
      // A throwing onChange/onError must not escape a timer and crash the relay.
      this.#options.logger?.error(
        { event: 'config_reload', err: error },
        'configuration callback failed',
      )
    }
  }

  #reject(error: ConfigError | TollgateError): void {
    this.#options.logger?.warn(
      { event: 'config_reload', code: error.code },
      'configuration rejected',
    )
    this.#options.onError(error)
  }

  #onWatchError(error: Error): void {
    this.stop()
    const message = `stopped watching ${dirname(this.#path)}; send SIGHUP to reload`
    this.#reject(new TollgateError('TOLLGATE_CONFIG_INVALID', message, { cause: error }))
  }
}

function isSameConfig(a: LoadedConfig, b: LoadedConfig): boolean {
  return a.hash === b.hash && JSON.stringify(a.config) === JSON.stringify(b.config)
}

function asConfigFailure(error: unknown): ConfigError | TollgateError {
  if (isTollgateError(error)) return error
  return new TollgateError('TOLLGATE_CONFIG_INVALID', 'the configuration could not be loaded', {
    cause: error,
  })
}
