import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodedForms } from '../../../src/secrets/secret-forms.js'
import { Scrubber } from '../../../src/secrets/scrubber.js'

const SECRET = 'sk-live-9f8e7d6c5b4a3928'

/** What a client sees once the scrubber has passed over `text` in one piece. */
function scrubbed(text: string, secret = SECRET): string {
  const scrubber = new Scrubber(encodedForms(secret))
  return Buffer.concat([scrubber.push(Buffer.from(text)), scrubber.end()]).toString()
}

describe('encoded forms of a secret, masked in what an upstream returns', () => {
  test('base64 of a larger blob hides no secret at any byte offset, in either alphabet', () => {
    for (let offset = 0; offset < 6; offset++) {
      const blob = Buffer.concat([Buffer.alloc(offset, 'x'), Buffer.from(`${SECRET} and more`)])
      for (const encoded of [blob.toString('base64'), blob.toString('base64url')]) {
        const out = scrubbed(`{"data":"${encoded}"}`)
        const decoded = Buffer.from(out.slice(9, -2), 'base64').toString('latin1')
        assert.ok(!decoded.includes(SECRET), `offset ${offset}: ${decoded}`)
        assert.equal(out.length, encoded.length + 11, 'masks keep the length')
      }
    }
  })

  test('hex in either case, JSON escapes and percent-encoding are masked', () => {
    const quoted = 'a"b\\c-secret-value-long'
    const cases = [
      Buffer.from(SECRET).toString('hex'),
      Buffer.from(SECRET).toString('hex').toUpperCase(),
      encodeURIComponent(`${SECRET}/x`),
    ]
    for (const text of cases) assert.ok(!scrubbed(`>${text}<`).includes(text.slice(0, 24)), text)
    const json = JSON.stringify({ echoed: quoted })
    assert.ok(!scrubbed(json, quoted).includes(JSON.stringify(quoted).slice(1, -1)))
  })

  test('a short secret is masked as itself, but its short derived forms are not', () => {
    const forms = encodedForms('abcdef')
    assert.ok(forms.includes('abcdef'))
    assert.ok(forms.includes(Buffer.from('abcdef').toString('base64')))
    assert.ok(
      forms.every((form) => form.length >= 16 || form.length <= 8),
      forms.join(' '),
    )
    // Ordinary base64 text is left alone: the middle of a short secret's base64 is too common.
    assert.equal(scrubbed('YWJjZGVm is fine', 'zz'), 'YWJjZGVm is fine')
  })
})
