/**
 * The config body shared by the relay integration tests: one owner, agents with different
 * policies, and one credential of each injection kind, all bound to the loopback upstreams.
 */
export function relayTestConfig(httpPort: number, httpsPort: number): string {
  return `
people:
  - email: alice@example.com
    teams: [platform]
agents:
  - name: bot
    owner: alice@example.com
    team: platform
    policies: [main]
  - name: watcher
    owner: alice@example.com
    team: platform
    policies: [trial]
policies:
  - name: main
    rules:
      - name: deny-admin
        effect: deny
        schemes: [http, https]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}, ${httpsPort}]
        paths: ["/admin/**"]
      - name: header
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/header/**"]
        credential: header-key
        allowPlaintextCredential: true
      - name: basic
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/basic/**"]
        credential: basic-key
        allowPlaintextCredential: true
      - name: query
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/query/**"]
        credential: query-key
        allowPlaintextCredential: true
      - name: placeholder
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/placeholder/**"]
        credential: placeholder-key
        allowPlaintextCredential: true
      - name: plaintext-refused
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/tls-only/**"]
        credential: header-key
      - name: open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        methods: [GET, POST]
        paths: ["/open/**", "/sse", "/redirect"]
      - name: tls
        schemes: [https]
        hosts: ["127.0.0.1"]
        ports: [${httpsPort}]
        methods: [GET, POST]
        paths: ["/api/**"]
        credential: header-key
  - name: trial
    mode: report
    rules:
      - name: only-open
        schemes: [http]
        hosts: ["127.0.0.1"]
        ports: [${httpPort}]
        paths: ["/open/**"]
credentials:
  - name: header-key
    secret: header-secret
    hosts: ["127.0.0.1"]
    header: { name: X-Api-Key, format: "{secret}" }
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
  - name: elsewhere-key
    secret: elsewhere-secret
    hosts: ["api.elsewhere.test"]
    placeholder: { value: "tg-placeholder-elsewhere" }
routes:
  - name: echo
    upstream: http://127.0.0.1:${httpPort}/open
upstreams:
  - host: "127.0.0.1"
    caFile: ./upstream-ca.pem
`
}

export const SECRETS = {
  'header-secret': 'hdr-SECRET-value-1234',
  'basic-secret': 'basic-SECRET-value-5678',
  'query-secret': 'query-SECRET-value-9012',
  'placeholder-secret': 'ph-SECRET-value-3456',
  'elsewhere-secret': 'else-SECRET-value-7890',
} as const
