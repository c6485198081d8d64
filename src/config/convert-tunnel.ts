import type { ConvertContext } from './convert-server.js'
import type { RawRule } from './raw-config.js'
import type { ConfigPath } from './yaml-source.js'

/**
 * A rule's `tunnel` field, checked. An opaque tunnel carries bytes the relay never reads, so
 * nothing that only makes sense for HTTP may sit beside it, and it must name exactly where it
 * goes: every host exact, every port listed. Anything looser is refused rather than narrowed,
 * because a reader of the rule would otherwise believe it allows less than it does.
 */
export function convertTunnel(
  raw: RawRule,
  path: ConfigPath,
  ctx: ConvertContext,
): { tunnel?: 'opaque' } {
  if (raw.tunnel === undefined) return {}

  for (const problem of tunnelProblems(raw)) ctx.issues.add([...path, ...problem.at], problem.text)
  return { tunnel: raw.tunnel }
}

interface TunnelProblem {
  at: ConfigPath
  text: string
}

function tunnelProblems(raw: RawRule): TunnelProblem[] {
  const problems: TunnelProblem[] = []
  const add = (at: ConfigPath, text: string) => problems.push({ at, text })

  if (raw.effect === 'deny') add(['tunnel'], 'only allow rules can open an opaque tunnel')
  if (raw.ports === undefined) add(['tunnel'], 'an opaque tunnel needs explicit ports')

  raw.hosts.forEach((host, i) => {
    if (host.includes('*'))
      add(['hosts', i], `"${host}" is a wildcard; an opaque tunnel needs exact hosts`)
  })

  for (const key of HTTP_ONLY_KEYS) {
    if (raw[key] !== undefined) add([key], `does not apply to an opaque tunnel`)
  }
  if (raw.methods !== undefined && raw.methods.some((m) => m.toUpperCase() !== 'CONNECT')) {
    add(['methods'], 'an opaque tunnel only opens with CONNECT')
  }
  return problems
}

/**
 * Keys that describe HTTP requests or what is done to them. A credential could never be
 * injected into bytes the relay does not parse, so allowing one here would only mislead.
 */
const HTTP_ONLY_KEYS = [
  'credential',
  'paths',
  'schemes',
  'websocket',
  'allowPlaintextCredential',
] as const
