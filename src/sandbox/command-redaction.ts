import { redactQuery } from '../relay/exchange/redact-query.js'
import { encodedForms } from '../secrets/secret-forms.js'

/** What a redacted value becomes, as in the audit trail's query strings. */
export const REDACTED = 'REDACTED'

/** Name fragments that mark a value as secret wherever they occur (`GITHUB_TOKEN`, `--apikey`). */
const SECRET_FRAGMENTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'authorization',
  'credential',
  'cookie',
  'signature',
]

/** Whole words that do the same (`--pass`, `X-Api-Key`, `AUTH`), but not inside others. */
const SECRET_WORDS = new Set(['pass', 'pwd', 'pw', 'auth', 'key', 'sig', 'pat'])

/** Options whose value is `user:password` (curl, wget): only the password goes. */
const USER_PASSWORD_OPTIONS = new Set(['-u', '--user', '--proxy-user'])

/** Token formats recognisable on their own. */
const TOKEN_SHAPE_SOURCES = [
  'gh[pousr]_[A-Za-z0-9]{20,}', // GitHub
  'github_pat_\\w{20,}', // GitHub fine-grained
  'sk-[\\w-]{20,}', // OpenAI, Anthropic
  'xox[abposr]-[A-Za-z0-9-]{10,}', // Slack
  '(?:AKIA|ASIA)[0-9A-Z]{16}', // AWS access key ids
  'glpat-[\\w-]{20,}', // GitLab
  'eyJ[\\w-]{8,}\\.[\\w-]{8,}\\.[\\w-]{8,}', // JWTs
]
const TOKEN_SHAPES = new RegExp(`\\b(?:${TOKEN_SHAPE_SOURCES.join('|')})`, 'g')

/** A value as a shell would see it: a quoted string or one word. */
const VALUE = `("[^"]*"|'[^']*'|[^\\s"'&;|]+)`

/**
 * Whether a name (an option, a variable, a header, a query parameter) says its value is a
 * secret. Errs towards redacting: a hidden harmless value costs less than a recorded key.
 */
export function isSecretName(name: string): boolean {
  const flat = name.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (SECRET_FRAGMENTS.some((fragment) => flat.includes(fragment))) return true
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
  return words.some((word) => SECRET_WORDS.has(word))
}

/**
 * The command line as the sandbox record and its audit events keep it: values that look like
 * secrets replaced by `REDACTED`. Recognised are values of options and variables with secret
 * names (`--token X`, `--password=X`, `API_KEY=X`), secret headers (`Authorization: …`,
 * `X-Api-Key: …`), `Bearer`/`Basic` credentials, passwords in URLs and in `-u user:password`,
 * every URL query value (as in the audit trail's paths), and well-known token formats. The
 * same rules apply inside a single argument such as a `sh -c` script. Anything else is kept as
 * given: a secret in a form not listed here is recorded.
 */
export function redactCommand(command: readonly string[]): string[] {
  const redacted: string[] = []
  let previous: string | null = null
  for (const arg of command) {
    redacted.push(previous === null ? redactText(arg) : redactOptionValue(previous, arg))
    previous = isOptionWithSecretValue(arg) ? arg : null
  }
  return redacted
}

function isOptionWithSecretValue(arg: string): boolean {
  if (USER_PASSWORD_OPTIONS.has(arg)) return true
  return /^--?[A-Za-z][\w.-]*$/.test(arg) && isSecretName(arg)
}

function redactOptionValue(option: string, value: string): string {
  if (!USER_PASSWORD_OPTIONS.has(option)) return REDACTED
  const colon = value.indexOf(':')
  return colon < 0 ? redactText(value) : `${value.slice(0, colon)}:${REDACTED}`
}

/** Applies every text rule to one argument (or one script). */
export function redactText(text: string): string {
  let result = text
  for (const rule of TEXT_RULES) result = rule(result)
  return result
}

type TextRule = (text: string) => string

const TEXT_RULES: readonly TextRule[] = [
  redactUrlPasswords,
  redactUrlQueries,
  redactAssignments,
  redactOptionValues,
  redactHeaders,
  redactSchemes,
  (text) => text.replace(TOKEN_SHAPES, REDACTED),
]

function redactUrlPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/@:"']*):[^\s/@"']*@/gi, `$1:${REDACTED}@`)
}

function redactUrlQueries(text: string): string {
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/[^\s?#"']*)(\?[^\s#"';|<>()`]*)/gi,
    (_match, url: string, query: string) => url + redactQuery(query),
  )
}

// `NAME=value`, `--name=value`: at the start of a word, so URL query strings are not touched.
function redactAssignments(text: string): string {
  const pattern = new RegExp(`(^|[\\s"'])(--?[A-Za-z][\\w.-]*|[A-Za-z_][\\w.-]*)=${VALUE}`, 'g')
  return text.replace(pattern, (match, start: string, name: string) =>
    isSecretName(name) ? `${start}${name}=${REDACTED}` : match,
  )
}

// `--token value` inside a script; across arguments it is `redactCommand`'s job.
function redactOptionValues(text: string): string {
  const pattern = new RegExp(`(^|\\s)(--?[A-Za-z][\\w.-]*)(\\s+)(?!-)${VALUE}`, 'g')
  return text.replace(pattern, (match, start: string, option: string, space: string) =>
    isSecretName(option) ? `${start}${option}${space}${REDACTED}` : match,
  )
}

// `Authorization: Bearer x`, `X-Api-Key: x`, as given to curl -H: the value to the line's end.
function redactHeaders(text: string): string {
  return text.replace(
    /(^|[\s"'])([A-Za-z][\w-]*):[ \t]*([^\s"'][^\r\n"']*)/g,
    (match, start: string, name: string) =>
      isSecretName(name) ? `${start}${name}: ${REDACTED}` : match,
  )
}

function redactSchemes(text: string): string {
  return text.replace(/\b(Bearer|Basic)\s+[\w.~+/=-]+/gi, `$1 ${REDACTED}`)
}

/**
 * Values shorter than this are not searched for: a short secret would match ordinary words
 * of the command and hide them, and a secret that short is not one an operator relies on.
 */
const MIN_VALUE_LENGTH = 6

/**
 * Replaces every known secret value, and its usual encodings (URL, base64, hex, JSON), in each
 * argument with `REDACTED`. This catches what `redactCommand`'s patterns do not: a key pasted
 * as a bare argument, or into a script.
 */
export function redactValues(command: readonly string[], values: readonly string[]): string[] {
  const forms = values
    .filter((value) => value.length >= MIN_VALUE_LENGTH)
    .flatMap((value) => encodedForms(value))
    .filter((form) => form.length >= MIN_VALUE_LENGTH)
    // Longest first, so a value containing a shorter one goes whole.
    .sort((a, b) => b.length - a.length)
  if (forms.length === 0) return [...command]

  return command.map((arg) => {
    let out = arg
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED)
    return out
  })
}
