import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { parseDocument } from 'yaml'

import { EXAMPLE_CONFIG } from '../../../src/config/example.js'
import { readConfigSchema } from '../../../src/config/schema-validator.js'

const schema = readConfigSchema()

void describe('schema/tollgate.schema.json', () => {
  void test('is a valid draft 2020-12 schema that strict Ajv compiles', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true })
    addFormatsModule.default(ajv, ['email'])

    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors))
    assert.equal(typeof ajv.compile(schema), 'function')
  })

  void test('every property has a description for editors', () => {
    const missing = propertiesWithoutDescription(schema, '#')
    assert.deepEqual(missing, [])
  })

  void test('every object refuses unknown keys', () => {
    const open = objectsWithoutClosedKeys(schema, '#')
    assert.deepEqual(open, [])
  })

  void test('accepts the example configuration as plain data', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true })
    addFormatsModule.default(ajv, ['email'])
    const validate = ajv.compile(schema)

    assert.equal(
      validate(parseDocument(EXAMPLE_CONFIG).toJS()),
      true,
      JSON.stringify(validate.errors),
    )
  })
})

type Json = Record<string, unknown>

function propertiesWithoutDescription(node: unknown, at: string): string[] {
  if (typeof node !== 'object' || node === null) return []

  const found: string[] = []
  const properties = (node as Json)['properties'] as Record<string, Json> | undefined
  for (const [key, property] of Object.entries(properties ?? {})) {
    if (!hasDescription(property)) found.push(`${at}/properties/${key}`)
  }
  for (const [key, child] of Object.entries(node as Json)) {
    found.push(...propertiesWithoutDescription(child, `${at}/${key}`))
  }
  return found
}

function hasDescription(property: Json): boolean {
  if (typeof property['description'] === 'string') return true

  const ref = property['$ref']
  if (typeof ref !== 'string') return false
  const target = (schema['$defs'] as Record<string, Json>)[ref.replace('#/$defs/', '')]
  return typeof target?.['description'] === 'string'
}

function objectsWithoutClosedKeys(node: unknown, at: string): string[] {
  if (typeof node !== 'object' || node === null) return []

  const json = node as Json
  const type = json['type']
  const isObject = type === 'object' || (Array.isArray(type) && type.includes('object'))
  const found = isObject && json['additionalProperties'] !== false ? [at] : []
  for (const [key, child] of Object.entries(json)) {
    found.push(...objectsWithoutClosedKeys(child, `${at}/${key}`))
  }
  return found
}
