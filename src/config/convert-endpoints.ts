import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import type { ConvertContext } from './convert-server.js'
import { exactHostProblem, normaliseHost } from './host-pattern.js'
import type { RawRoute, RawUpstream } from './raw-config.js'
import type { RouteConfig, UpstreamConfig } from './types.js'
import type { ConfigPath } from './yaml-source.js'

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'

/** Reverse routes with canonical upstream base URLs. */
export function convertRoutes(raw: readonly RawRoute[], ctx: ConvertContext): RouteConfig[] {
  return raw.map((route, i) => ({
    name: route.name,
    upstream: convertUpstreamUrl(route.upstream, ['routes', i, 'upstream'], ctx),
  }))
}

/** Upstream settings, with each CA file resolved against the config directory and read now. */
export function convertUpstreams(
  raw: readonly RawUpstream[],
  ctx: ConvertContext,
): UpstreamConfig[] {
  return raw.map((upstream, i) => {
    const host = normaliseHost(upstream.host)
    const problem = exactHostProblem(host)
    if (problem) ctx.issues.add(['upstreams', i, 'host'], `"${upstream.host}" ${problem}`)

    const caFile = upstream.caFile === undefined ? null : resolve(ctx.baseDir, upstream.caFile)
    const caPem = caFile === null ? null : readCaFile(caFile, ['upstreams', i, 'caFile'], ctx)
    return { host, caFile, caPem }
  })
}

/**
 * The canonical base URL of a route: scheme and host in lower case, no trailing slash. Query,
 * fragment and user info are refused: the relay appends the agent's path to this base, and
 * anything after the path would end up in the middle of the result.
 */
function convertUpstreamUrl(text: string, path: ConfigPath, ctx: ConvertContext): string {
  const url = URL.canParse(text) ? new URL(text) : null
  const problem = upstreamUrlProblem(url, text)
  if (problem || !url) {
    ctx.issues.add(path, problem ?? 'must be an absolute http:// or https:// URL')
    return text
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

function upstreamUrlProblem(url: URL | null, text: string): string | null {
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return 'must be an absolute http:// or https:// URL'
  }
  if (url.username || url.password || text.includes('@')) return 'must not contain user info'
  if (url.search || text.includes('?')) return 'must not contain a query'
  if (url.hash || text.includes('#')) return 'must not contain a fragment'
  return null
}

function readCaFile(file: string, path: ConfigPath, ctx: ConvertContext): string | null {
  let pem: string
  try {
    pem = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    ctx.issues.add(path, `cannot read ${file} (${code})`)
    return null
  }

  if (pem.includes(PEM_CERTIFICATE)) return pem
  ctx.issues.add(path, `${file} holds no PEM certificate`)
  return null
}
