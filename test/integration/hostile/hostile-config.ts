/**
 * The config body the hostile-agent suites share: two agents of one owner, `bot` allowed to
 * reach the loopback echo upstreams under `/open/`, `other` allowed nothing but `/other/`, so
 * a request that ran as the wrong agent is visible in its decision.
 */
export function hostileConfig(ports: { http: number; https: number }, rules = ''): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
  - name: other
    owner: alice@example.com
    team: platform
    policies: [narrow]
policies:
  - name: main
    rules:
      - name: open
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${ports.http}, ${ports.https}]
        paths: ["/open/**"]
${rules}
  - name: narrow
    rules:
      - name: only-other
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${ports.http}, ${ports.https}]
        paths: ["/other/**"]
upstreams:
  - host: "127.0.0.1"
    caFile: ./upstream-ca.pem
`
}

/** The documented fields of the one decision log line per request (docs/operations.md#logs). */
export const DECISION_LINE_FIELDS: ReadonlySet<string> = new Set([
  'level',
  'time',
  'service',
  'event',
  'msg',
  'requestId',
  'agent',
  'owner',
  'sandboxId',
  'method',
  'scheme',
  'host',
  'port',
  'path',
  'decision',
  'code',
  'rule',
  'credentials',
  'status',
  'durationMs',
  'upstreamError',
])
