import assert from 'node:assert/strict'
import { ERRORS, type ErrorCode } from '../../src/errors/codes.js'
import type { EchoRecord } from '../helpers/echo-upstream.js'
import type { AllowedExact, Outcome, Refused } from './corpus/case.js'
import type { ParsedResponse } from './response-reader.js'

/** A refusal as the agent saw it, kept to find its audit event later. */
export interface SeenRefusal {
  caseId: string
  requestId: string
  code: ErrorCode
}

/** Fills in `{name}` substitutions in an expected value. */
export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([a-z0-9:-]+)\}/gi, (whole, name: string) => vars[name] ?? whole)
}

/**
 * Checks one response against its expected outcome. Returns the refusal it saw, if any, and
 * consumes the upstream records an allowed request must have produced (in order).
 */
export function checkOutcome(
  response: ParsedResponse,
  outcome: Outcome,
  upstream: EchoRecord[],
  context: { caseId: string; reverse: boolean; vars: Record<string, string> },
): SeenRefusal | null {
  const summary = `${response.status} ${response.body.toString('latin1').slice(0, 160)}`
  if (outcome.kind === 'refused') return checkRefused(response, outcome, context, summary)
  checkAllowed(response, outcome, upstream, context.vars, summary)
  return null
}

function checkRefused(
  response: ParsedResponse,
  outcome: Refused,
  context: { caseId: string; reverse: boolean },
  summary: string,
): SeenRefusal {
  assert.ok(response.status >= 400 && response.status < 500, `a 4xx refusal, got ${summary}`)
  const header = response.headers['tollgate-error']
  assert.ok(
    header !== undefined && isErrorCode(header),
    `a stable code in tollgate-error: ${summary}`,
  )

  const body = parseErrorBody(response.body, summary)
  assert.equal(body.error.code, header, 'the JSON code equals the header')
  const stated = ERRORS[header].status
  const status = stated === 407 && context.reverse ? 401 : stated
  assert.equal(response.status, status, `the status of ${header}`)
  if (outcome.code !== undefined) assert.equal(header, outcome.code, summary)
  // Expect: 100-continue must not invite a body the relay then refuses.
  assert.deepEqual(response.interim, [], 'no interim response before a refusal')
  return { caseId: context.caseId, requestId: body.request_id, code: header }
}

function checkAllowed(
  response: ParsedResponse,
  outcome: AllowedExact,
  upstream: EchoRecord[],
  vars: Record<string, string>,
  summary: string,
): void {
  assert.equal(response.headers['tollgate-error'], undefined, `not refused: ${summary}`)
  assert.ok(response.status < 400, `the upstream's answer: ${summary}`)
  const seen = upstream.shift()
  assert.ok(seen, 'the request reached the upstream')

  assert.equal(seen.method, outcome.method, 'the upstream saw the method')
  assert.equal(seen.url, fill(outcome.url, vars), 'the upstream saw the request target')
  assert.equal(seen.headers.host, fill(outcome.host, vars), 'the upstream saw the Host')
  if (outcome.body !== undefined) assert.equal(seen.body, fill(outcome.body, vars), 'the body')
  for (const [name, value] of Object.entries(outcome.headers ?? {})) {
    const got: string | string[] | undefined = seen.headers[name]
    const want = value === null ? undefined : fill(value, vars)
    assert.equal(Array.isArray(got) ? got.join(', ') : got, want, `the upstream's ${name}`)
  }
}

interface ErrorBody {
  error: { code: string; message: string }
  request_id: string
}

function parseErrorBody(body: Buffer, summary: string): ErrorBody {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    assert.fail(`a JSON error body: ${summary}`)
  }
  const shaped = parsed as Partial<ErrorBody> | null
  assert.ok(typeof shaped?.error?.code === 'string', `error.code in the body: ${summary}`)
  assert.ok(typeof shaped.request_id === 'string', `request_id in the body: ${summary}`)
  return shaped as ErrorBody
}

function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value)
}

/**
 * Every spelling of a secret an echoing upstream could hand back: as is, URL-encoded, JSON
 * escaped, hex, base64 and base64url. Base64 runs in the bytes are also decoded at each of
 * the three alignments, so a secret buried inside a larger encoded blob is found too.
 */
export function leakedSecrets(bytes: Buffer, secrets: readonly string[]): string[] {
  const text = bytes.toString('latin1')
  const decoded = decodeBase64Runs(text)
  return secrets.filter((secret) => {
    const forms = spellings(secret)
    return forms.some((form) => text.includes(form)) || decoded.some((d) => d.includes(secret))
  })
}

function spellings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    bytes.toString('base64'),
    bytes.toString('base64url'),
  ]
}

function decodeBase64Runs(text: string): string[] {
  const runs = text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []
  return runs.flatMap((run) =>
    [0, 1, 2, 3].map((skip) => {
      const aligned = run.slice(skip).replaceAll('-', '+').replaceAll('_', '/')
      return Buffer.from(aligned, 'base64').toString('latin1')
    }),
  )
}
