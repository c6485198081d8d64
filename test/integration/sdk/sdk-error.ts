/** What a test needs from an SDK's API error: the status and the relay's code, both ways. */
export interface RelayRefusal {
  status: unknown
  /** The `tollgate-error` response header. */
  header: string | null
  /** `error.code` from the relay's JSON body, as the SDK parsed it. */
  code: unknown
}

interface ApiErrorShape {
  status?: unknown
  headers?: unknown
  error?: unknown
}

/**
 * Reads an OpenAI or Anthropic SDK `APIError` without relying on their generic types (both
 * declare the parsed body and headers loosely). The SDKs keep the parsed JSON body, or its
 * `error` member, in `error.error`; both shapes are accepted.
 */
export function relayRefusal(error: unknown): RelayRefusal {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ApiErrorShape
  const headers = shape.headers instanceof Headers ? shape.headers : null
  return {
    status: shape.status,
    header: headers?.get('tollgate-error') ?? null,
    code: codeIn(shape.error),
  }
}

function codeIn(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return undefined
  const { code, error } = body as { code?: unknown; error?: unknown }
  return code ?? codeIn(error)
}
