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
  return null
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
    for (const byte of chunk) {
      if (this.#inString) this.#stringByte(byte, found)
      else this.#structureByte(byte)
    }
    return found
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

  #openString(): void {
    this.#inString = true
    this.#escaped = false
    const role = this.#depth === 1 && this.#expect !== 'other' && this.#expect !== 'colon'
    this.#role = role ? (this.#expect as 'key' | 'value') : null
    this.#raw = role ? [] : null
    this.#tooLong = false
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
