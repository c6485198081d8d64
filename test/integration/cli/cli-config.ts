/**
 * The config body (everything after `server:`) shared by the CLI tests: one owner, two agents
 * on one policy, and one credential of each injection kind bound to the loopback upstreams.
 * Plain-HTTP rules inject only because they say `allowPlaintextCredential`; the https rules
 * are reached through CONNECT with the relay's CA.
 */
export interface UpstreamPorts {
  http: number
  /** With an https port, https rules and an `upstreams` entry trusting `caFile` are added. */
  https?: number
  caFile?: string
}

const KINDS = ['header', 'basic', 'query', 'placeholder'] as const

export function cliTestConfig(ports: UpstreamPorts): string {
  return [people(), policies(ports), credentials(), upstreams(ports)].join('')
}

function people(): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
  - name: helper
    owner: alice@example.com
    team: platform
    policies: [main]
`
}

function policies(ports: UpstreamPorts): string {
  const plain = KINDS.map((kind) => injectingRule(kind, 'http', ports.http)).join('')
  const tls = ports.https
    ? KINDS.map((kind) => injectingRule(kind, 'https', ports.https ?? 0)).join('')
    : ''
  return `
policies:
  - name: main
    rules:
      - name: deny-admin
        effect: deny
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${[ports.http, ports.https].filter(Boolean).join(', ')}]
        paths: ["/admin/**"]
      - name: open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${ports.http}]
        methods: [GET, POST]
        paths: ["/open/**"]
${plain}${tls}`
}

function injectingRule(kind: (typeof KINDS)[number], scheme: string, port: number): string {
  const plaintext = scheme === 'http' ? '\n        allowPlaintextCredential: true' : ''
  return `      - name: ${scheme}-${kind}
        schemes: [${scheme}]
        hosts: ["127.0.0.1"]
        ports: [${port}]
        paths: ["/${kind}/**"]
        credential: ${kind}-key${plaintext}
`
}

function credentials(): string {
  return `
credentials:
  - name: header-key
    secret: header-secret
    hosts: ["127.0.0.1"]
    header: { name: X-Api-Key, format: "Key {secret}" }
  - name: basic-key
    secret: basic-secret
    hosts: ["127.0.0.1"]
    basic: { username: robot }
  - name: query-key
    secret: query-secret
    hosts: ["127.0.0.1"]
    query: { param: api_key }
  - name: placeholder-key
    secret: placeholder-secret
    hosts: ["127.0.0.1"]
    placeholder: { value: "tg-placeholder-0001" }
`
}

function upstreams(ports: UpstreamPorts): string {
  if (!ports.caFile) return ''
  return `
upstreams:
  - host: "127.0.0.1"
    caFile: ${JSON.stringify(ports.caFile)}
`
}

/**
 * Secret values with characters that base64 and URL encoding change (`/`, `+`, `=`, space),
 * so a leak of an encoded form is not missed by looking only for the raw value.
 */
export const SECRETS = {
  'header-secret': 'hdr-S3CRET/value+1234=',
  'basic-secret': 'basic-S3CRET value/5678',
  'query-secret': 'qry-S3CRET/value+9012 &x=1',
  'placeholder-secret': 'ph-S3CRET-value-3456',
} as const

/** Every form in which a secret could plausibly show up if it leaked. */
export function leakForms(value: string): string[] {
  const forms = [
    value,
    Buffer.from(value).toString('base64'),
    Buffer.from(`robot:${value}`).toString('base64'),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
  ]
  return [...new Set(forms)]
}
