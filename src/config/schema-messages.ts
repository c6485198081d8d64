import type { ErrorObject } from 'ajv/dist/2020.js'

import { didYouMean } from './suggest.js'
import type { ConfigPath } from './yaml-source.js'

/** One schema error, translated for a person editing YAML. */
export interface SchemaProblem {
  path: ConfigPath
  /** `key`: the problem is the key at the end of `path` (unknown or missing). */
  target: 'key' | 'value'
  message: string
}

/**
 * What a failed `pattern` or `format` means, by the JSON pointer of the schema that declares
 * it. Ajv would print the regular expression, which helps nobody fix a file.
 */
const PATTERN_MESSAGES: Record<string, string> = {
  '/$defs/name':
    'must be a name: letters, digits, ".", "_" and "-", starting with a letter or digit, ' +
    'at most 64 characters',
  '/$defs/duration': 'must be a duration such as 500ms, 10s, 5m, 24h or 7d, or whole milliseconds',
  '/$defs/listenAddress': 'must be host:port or [ipv6]:port',
  '/$defs/hostPattern': 'must be a host name, an IP literal, "*.suffix" or "*"',
  '/$defs/person/properties/email': 'must be an email address',
  '/$defs/agent/properties/owner': 'must be the email address of a declared person',
  '/$defs/rule/properties/methods/items': 'must be an HTTP method name such as GET',
  '/$defs/rule/properties/paths/items': 'must start with "/" and contain no spaces, "?" or "#"',
  '/$defs/headerInjection/properties/name': 'must be a valid HTTP header name',
  '/$defs/headerInjection/properties/format': 'must not contain line breaks',
  '/$defs/basicInjection/properties/username': 'must not contain ":" or line breaks',
  '/$defs/queryInjection/properties/param': 'must be letters, digits, ".", "_", "~" or "-"',
  '/$defs/placeholderInjection/properties/value':
    'must be 8 to 256 printable ASCII characters without spaces',
  '/$defs/route/properties/name':
    'must be lower-case letters, digits and "-", starting with a letter or digit',
  '/$defs/route/properties/upstream': 'must be an absolute http:// or https:// URL',
}

/** Extra advice for required keys whose absence is a policy decision, not a typo. */
const REQUIRED_HINTS: Record<string, string> = {
  '/$defs/agent/owner': '; every agent must be bound to a declared person who answers for it',
  '/$defs/agent/team': '; every agent belongs to a team declared by one of the people',
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
}

const INJECTIONS = 'header, basic, query or placeholder'

/**
 * Translates Ajv's errors into messages about the YAML. Messages are looked up by the identity
 * of the schema object that failed (Ajv's `schemaPath` changes with how it inlines `$ref`s).
 */
export class SchemaMessages {
  readonly #patterns = new Map<unknown, string>()
  readonly #required = new Map<unknown, Map<string, string>>()

  constructor(schema: object) {
    for (const [pointer, message] of Object.entries(PATTERN_MESSAGES)) {
      this.#patterns.set(resolvePointer(schema, pointer), message)
    }
    for (const [pointer, hint] of Object.entries(REQUIRED_HINTS)) {
      const [parent, key] = splitLast(pointer)
      const owner = resolvePointer(schema, parent)
      const hints = this.#required.get(owner) ?? new Map<string, string>()
      this.#required.set(owner, hints.set(key, hint))
    }
  }

  /**
   * Errors raised inside a `oneOf` branch are dropped: the `oneOf` error itself says what is
   * wrong, and the branches only restate it. A `oneOf` that only makes a value nullable (an
   * object or `null`) is the other way round: its referenced branch says what is wrong with the
   * object, and the `oneOf` error itself would only add a misleading line.
   */
  describe(errors: readonly ErrorObject[]): SchemaProblem[] {
    return errors
      .filter((e) => !e.schemaPath.includes('/oneOf/'))
      .filter((e) => !(e.keyword === 'oneOf' && isNullableChoice(e.parentSchema)))
      .map((e) => this.#describe(e))
  }

  #describe(error: ErrorObject): SchemaProblem {
    const path = toConfigPath(error.instancePath)
    const params = error.params as Record<string, unknown>

    switch (error.keyword) {
      case 'additionalProperties':
        return unknownKey(path, String(params['additionalProperty']), error.parentSchema)
      case 'required':
        return this.#missingKey(path, String(params['missingProperty']), error.parentSchema)
      case 'oneOf':
        return { path, target: 'value', message: injectionMessage(params) }
      default:
        return { path, target: 'value', message: this.#valueMessage(error, path) }
    }
  }

  #missingKey(path: ConfigPath, key: string, parentSchema: unknown): SchemaProblem {
    const hint = this.#required.get(parentSchema)?.get(key) ?? ''
    return { path: [...path, key], target: 'key', message: `missing required key "${key}"${hint}` }
  }

  #valueMessage(error: ErrorObject, path: ConfigPath): string {
    const known = this.#patterns.get(error.parentSchema)
    const isPattern = error.keyword === 'pattern' || error.keyword === 'format'
    return isPattern ? (known ?? 'is invalid') : valueMessage(error, path)
  }
}

/** A `oneOf` whose only alternative to its schema is `null`, such as `limits.rate`. */
function isNullableChoice(schema: unknown): boolean {
  const branches = (schema as { oneOf?: unknown[] } | undefined)?.oneOf ?? []
  return branches.length === 2 && branches.some((b) => (b as { type?: unknown }).type === 'null')
}

function unknownKey(path: ConfigPath, key: string, parentSchema: unknown): SchemaProblem {
  const properties = (parentSchema as { properties?: object } | undefined)?.properties ?? {}
  const hint = didYouMean(key, Object.keys(properties))
  return { path: [...path, key], target: 'key', message: `unknown key "${key}"${hint}` }
}

function injectionMessage(params: Record<string, unknown>): string {
  return params['passingSchemas'] === null
    ? `must set one of ${INJECTIONS}`
    : `must set only one of ${INJECTIONS}`
}

function valueMessage(error: ErrorObject, path: ConfigPath): string {
  const params = error.params as Record<string, unknown>
  const limit = Number(params['limit'])

  switch (error.keyword) {
    case 'type':
      return typeMessage(String(params['type']), path)
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`
    case 'enum':
      return `must be one of: ${(params['allowedValues'] as unknown[]).join(', ')}`
    case 'minimum':
      return `must be at least ${limit}`
    case 'maximum':
      return `must be at most ${limit}`
    case 'exclusiveMinimum':
      return `must be greater than ${limit}`
    case 'exclusiveMaximum':
      return `must be less than ${limit}`
    case 'minItems':
      return limit === 1 ? 'must not be empty' : `must have at least ${limit} entries`
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters`
    case 'uniqueItems':
      return `must not repeat an entry (entries ${sameEntries(params)} are the same)`
    default:
      return error.message ?? 'is invalid'
  }
}

/** The two indexes of a repeated entry, first one first. */
function sameEntries(params: Record<string, unknown>): string {
  const [first, second] = [Number(params['i']), Number(params['j'])].sort((a, b) => a - b)
  return `${String(first)} and ${String(second)}`
}

function typeMessage(types: string, path: ConfigPath): string {
  const words = types.split(',').map((t) => TYPE_WORDS[t] ?? t)
  const wanted = words.join(' or ')
  return path.length === 0
    ? `the document must be ${wanted} starting with "version: 1"`
    : `must be ${wanted}`
}

/** `/agents/0/owner` → `['agents', 0, 'owner']`. */
function toConfigPath(instancePath: string): ConfigPath {
  if (instancePath === '') return []

  return instancePath
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment))
}

function resolvePointer(root: object, pointer: string): unknown {
  let node: unknown = root
  for (const segment of pointer.split('/').slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[segment]
  }
  if (node === undefined) throw new Error(`schema has nothing at ${pointer}`)
  return node
}

function splitLast(pointer: string): [string, string] {
  const at = pointer.lastIndexOf('/')
  return [pointer.slice(0, at), pointer.slice(at + 1)]
}
