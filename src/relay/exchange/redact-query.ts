/**
 * The form of a query string that may be recorded: parameter names kept, values replaced, so
 * a key passed in a URL never lands in the audit trail or the logs.
 */
export function redactQuery(query: string): string {
  if (query === '' || query === '?') return query
  const parts = query
    .slice(1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq < 0 ? part : `${part.slice(0, eq)}=REDACTED`
    })
  return '?' + parts.join('&')
}
