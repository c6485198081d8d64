import type { IncomingMessage } from 'node:http'
import { formDecode, paramName } from './method-override.js'

/** Finds the methods a body asks an upstream to act on instead of the request line's. */
export interface OverrideScanner {
  /** Takes the next chunk; returns the methods of the fields it completed. */
  push(chunk: Buffer): string[]
  /** The end of the body: what the last bytes completed. */
  end(): string[]
}

/**
 * The scanner for a body an upstream may read `_method` from (Rails, Laravel, Symfony and
 * Express's method-override read it from a POSTed form; Laravel from a JSON body too), or null.
 * Only `_method` counts: a body field called `method` is ordinary data in many APIs (a payment
 * method, say).
 */
export function overrideScannerFor(req: IncomingMessage): (() => OverrideScanner) | null {
  if (req.method !== 'POST') return null
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/x-www-form-urlencoded') return () => new FormOverrideScanner()
  if (type === 'application/json' || type.endsWith('+json')) return () => new JsonOverrideScanner()
  if (type === 'multipart/form-data') {
    const boundary = boundaryOf(req.headers['content-type'] ?? '')
    // Without a boundary no upstream can read a field out of the body either.
    return boundary === null ? null : () => new MultipartOverrideScanner(boundary)
  }
  return null
}

function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType)
  return match?.[1] ?? match?.[2] ?? null
}

const OVERRIDE_FIELD = '_method'

/** Longest name or value kept while scanning: a longer one cannot be `_method` or a method. */
const MAX_KEPT = 256

const AMPERSAND = 0x26
const EQUALS = 0x3d

/**
 * Finds `_method` fields in an `application/x-www-form-urlencoded` body, however it is split
 * into chunks and however its name is escaped (`%5Fmethod`, `_%6Dethod`). Only the field being
 * read is kept, and only up to `MAX_KEPT` bytes of it.
 */
export class FormOverrideScanner implements OverrideScanner {
  #name: number[] = []
  #value: number[] = []
  #inValue = false
  #tooLong = false

  push(chunk: Buffer): string[] {
    const found: string[] = []
    for (const byte of chunk) {
      if (byte === AMPERSAND) this.#endField(found)
      else if (byte === EQUALS && !this.#inValue) this.#inValue = true
      else this.#keep(this.#inValue ? this.#value : this.#name, byte)
    }
    return found
  }

  end(): string[] {
    const found: string[] = []
    this.#endField(found)
    return found
  }

  #keep(into: number[], byte: number): void {
    if (into.length < MAX_KEPT) into.push(byte)
    else this.#tooLong = true
  }

  #endField(found: string[]): void {
    const name = paramName(Buffer.from(this.#name).toString('latin1'))
    if (this.#inValue && !this.#tooLong && name === OVERRIDE_FIELD) {
      found.push(formDecode(Buffer.from(this.#value).toString('latin1')).trim().toUpperCase())
    }
    this.#name = []
    this.#value = []
    this.#inValue = false
    this.#tooLong = false
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

/** What the next thing at the top level of the body's object is. */
type Expect = 'key' | 'colon' | 'value' | 'other'

/**
 * Finds string values of a top-level `_method` key in a JSON body as it streams, with the key
 * spelled any way JSON allows (`"\u005fmethod"`), in any case, as many times as it appears
 * (parsers disagree on which duplicate wins, so every one counts). Nested objects are not
 * read: frameworks take the override from the top level only. Only the string being read at
 * the top level is kept, up to `MAX_KEPT` bytes.
 */
export class JsonOverrideScanner implements OverrideScanner {
  #depth = 0
  #expect: Expect = 'other'
  #inString = false
  #escaped = false
  /** The top-level key or value being read, raw; null for strings nobody needs. */
  #raw: number[] | null = null
  #tooLong = false
  #role: 'key' | 'value' | null = null
  #keyIsOverride = false

  push(chunk: Buffer): string[] {
    const found: string[] = []
    let i = 0
    while (i < chunk.length) {
      // Most of a JSON body (an LLM prompt) is the inside of strings nobody needs.
      if (this.#inString && this.#raw === null) {
        i = this.#skipString(chunk, i)
        continue
      }
      const byte = chunk[i++] ?? 0
      if (this.#inString) this.#stringByte(byte, found)
      else this.#structureByte(byte)
    }
    return found
  }

  /**
   * Jumps over an uncaptured string to just past its closing quote (or to the chunk's end),
   * with native searches: a quote closes it unless an odd run of backslashes precedes it,
   * counting a backslash the previous chunk ended on.
   */
  #skipString(chunk: Buffer, from: number): number {
    let at = chunk.indexOf(QUOTE, from)
    while (at !== -1) {
      if (this.#backslashesBefore(chunk, from, at) % 2 === 0) {
        this.#escaped = false
        this.#inString = false
        this.#closeString([])
        return at + 1
      }
      at = chunk.indexOf(QUOTE, at + 1)
    }
    this.#escaped = this.#backslashesBefore(chunk, from, chunk.length) % 2 === 1
    return chunk.length
  }

  #backslashesBefore(chunk: Buffer, from: number, end: number): number {
    let count = 0
    while (end - count > from && chunk[end - count - 1] === BACKSLASH) count++
    return end - count === from && this.#escaped ? count + 1 : count
  }

  end(): string[] {
    return []
  }

  #structureByte(byte: number): void {
    if (byte === QUOTE) return this.#openString()
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      this.#depth++
      // Only the outermost object has the keys frameworks read.
      this.#expect = this.#depth === 1 && byte === OPEN_OBJECT ? 'key' : this.#afterValue()
      return
    }
    if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      this.#depth--
      return
    }
    if (this.#depth !== 1) return
    if (byte === COMMA) this.#expect = 'key'
    else if (byte === COLON && this.#expect === 'colon') this.#expect = 'value'
    else if (this.#expect === 'value' && !isJsonSpace(byte)) this.#expect = 'other'
  }

  /** A value that is not a string (an object, a number) ends the `_method` key's chance. */
  #afterValue(): Expect {
    if (this.#depth === 2 && this.#expect === 'value') this.#keyIsOverride = false
    return this.#depth === 1 ? 'other' : this.#expect
  }

  /** Only top-level keys, and the value of a `_method` key, are read; the rest is skipped. */
  #openString(): void {
    this.#inString = true
    this.#escaped = false
    const top = this.#depth === 1
    const key = top && this.#expect === 'key'
    const value = top && this.#expect === 'value' && this.#keyIsOverride
    this.#role = key ? 'key' : value ? 'value' : null
    this.#raw = this.#role === null ? null : []
    this.#tooLong = false
    // A skipped value is still the value: what follows it is not.
    if (top && this.#expect === 'value' && !value) this.#expect = 'other'
  }

  #stringByte(byte: number, found: string[]): void {
    if (!this.#escaped && byte === QUOTE) {
      this.#inString = false
      this.#closeString(found)
      return
    }
    this.#escaped = !this.#escaped && byte === BACKSLASH
    if (this.#raw === null) return
    if (this.#raw.length < MAX_KEPT) this.#raw.push(byte)
    else this.#tooLong = true
  }

  #closeString(found: string[]): void {
    const text = this.#raw === null || this.#tooLong ? null : jsonString(this.#raw)
    if (this.#role === 'key') {
      this.#keyIsOverride = text?.toLowerCase() === OVERRIDE_FIELD
      this.#expect = 'colon'
    } else if (this.#role === 'value') {
      if (this.#keyIsOverride && text !== null) found.push(text.trim().toUpperCase())
      this.#keyIsOverride = false
      this.#expect = 'other'
    }
    this.#raw = null
    this.#role = null
  }
}

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

/** A JSON string's content, escapes undone; null if it is not valid JSON. */
function jsonString(raw: number[]): string | null {
  try {
    return JSON.parse(`"${Buffer.from(raw).toString('utf8')}"`) as string
  } catch {
    return null
  }
}

const CRLF_CRLF = Buffer.from('\r\n\r\n')
const DASH_DASH = Buffer.from('--')

/** Longest part head read for its name; a longer one is not a form field's. */
const MAX_PART_HEAD = 8 * 1024

/** Where a multipart scan is: in a part's content, or reading the head of the next part. */
type MultipartState = 'content' | 'head' | 'done'

/**
 * Finds `_method` fields in a `multipart/form-data` body (Rails and Laravel read form fields
 * from either form encoding). Parts are found by their boundary as the body streams; only the
 * content of a part whose `Content-Disposition` names `_method` is kept, up to `MAX_KEPT`
 * bytes, and otherwise no more than a boundary's length of the body is held between chunks.
 */
export class MultipartOverrideScanner implements OverrideScanner {
  readonly #delimiter: Buffer
  #state: MultipartState = 'content'
  /** Bytes not yet placed: the start of a delimiter or a part head still arriving. */
  #pending: Buffer
  #value: Buffer[] | null = null
  #valueLength = 0

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`)
    // The first delimiter may open the body without a line break before it.
    this.#pending = Buffer.from('\r\n')
  }

  push(chunk: Buffer): string[] {
    const found: string[] = []
    this.#pending = Buffer.concat([this.#pending, chunk])
    let progressed = true
    while (progressed && this.#state !== 'done') {
      progressed = this.#state === 'content' ? this.#readContent(found) : this.#readHead()
    }
    return found
  }

  end(): string[] {
    const found: string[] = []
    // An unterminated last part: count it as the most lenient parser would.
    if (this.#state === 'content') this.#endPart(found, this.#pending)
    return found
  }

  /** Content up to the next delimiter; false when more bytes are needed to find it. */
  #readContent(found: string[]): boolean {
    const at = this.#pending.indexOf(this.#delimiter)
    if (at === -1) {
      const keep = Math.min(this.#pending.length, this.#delimiter.length - 1)
      this.#keepValue(this.#pending.subarray(0, this.#pending.length - keep))
      this.#pending = Buffer.from(this.#pending.subarray(this.#pending.length - keep))
      return false
    }
    this.#endPart(found, this.#pending.subarray(0, at))
    this.#pending = this.#pending.subarray(at + this.#delimiter.length)
    this.#state = 'head'
    return true
  }

  /** The head of the next part (or the closing `--`); false when more bytes are needed. */
  #readHead(): boolean {
    if (this.#pending.length >= 2 && this.#pending.subarray(0, 2).equals(DASH_DASH)) {
      this.#state = 'done'
      return false
    }
    const at = this.#pending.indexOf(CRLF_CRLF)
    if (at === -1) {
      if (this.#pending.length <= MAX_PART_HEAD) return false
      this.#startPart(false, MAX_PART_HEAD)
      return true
    }
    const head = this.#pending.subarray(0, at).toString('latin1')
    this.#startPart(isOverridePart(head), at + CRLF_CRLF.length)
    return true
  }

  #startPart(isOverride: boolean, contentStart: number): void {
    this.#pending = this.#pending.subarray(contentStart)
    this.#value = isOverride ? [] : null
    this.#valueLength = 0
    this.#state = 'content'
  }

  #keepValue(bytes: Buffer): void {
    if (this.#value === null) return
    this.#valueLength += bytes.length
    if (this.#valueLength <= MAX_KEPT) this.#value.push(Buffer.from(bytes))
  }

  #endPart(found: string[], last: Buffer): void {
    this.#keepValue(last)
    if (this.#value !== null && this.#valueLength <= MAX_KEPT) {
      found.push(Buffer.concat(this.#value).toString('utf8').trim().toUpperCase())
    }
    this.#value = null
  }
}

/** Whether a part head's `Content-Disposition` names the `_method` field. */
function isOverridePart(head: string): boolean {
  const disposition = /^content-disposition\s*:(.*)$/im.exec(head)?.[1] ?? ''
  const name = /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(disposition)
  return (name?.[1] ?? name?.[2] ?? '').trim().toLowerCase() === OVERRIDE_FIELD
}
