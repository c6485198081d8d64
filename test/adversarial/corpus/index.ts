import type { CorpusCase } from './case.js'
import { CONNECTS } from './connect.js'
import { CREDENTIALS } from './credentials.js'
import { FRAMING } from './framing.js'
import { HOP_BY_HOP } from './hop-by-hop.js'
import { HOST_IDENTITY } from './host-identity.js'
import { METHODS } from './methods.js'
import { PATHS } from './paths.js'
import { REVERSE } from './reverse.js'
import { REVERSE_TOKENS } from './reverse-tokens.js'
import { SSRF } from './ssrf.js'
import { UPGRADES } from './upgrades.js'

/** Every case of the adversarial corpus, in the order the runner sends them. */
export const CORPUS: readonly CorpusCase[] = [
  ...HOST_IDENTITY,
  ...SSRF,
  ...PATHS,
  ...METHODS,
  ...FRAMING,
  ...HOP_BY_HOP,
  ...CONNECTS,
  ...UPGRADES,
  ...CREDENTIALS,
  ...REVERSE,
  ...REVERSE_TOKENS,
]
