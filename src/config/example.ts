/**
 * The example `tollgate.yaml` written by `tollgate init`. The same text is published as
 * `examples/tollgate.example.yaml`; a test keeps the two identical and checks that it loads.
 */
export const EXAMPLE_CONFIG = `# tollgate.yaml: who your agents are, who answers for them,
# and what they may reach.
#
# Nothing is reachable unless a rule allows it, and a matching deny rule always wins.
# Reference: docs/configuration.md. For completion and checking in your editor, point the YAML
# language server at schema/tollgate.schema.json from the Tollgate package, e.g. with a first
# line of the form  # yaml-language-server: $schema=<path>/schema/tollgate.schema.json
# Tollgate re-reads this file when it changes (or on SIGHUP); a file with errors is refused and
# the previous configuration keeps serving.

version: 1

server:
  # State (database, CA, master key). Relative paths start at this file's directory.
  stateDir: ./.tollgate
  # Agents use this as HTTP_PROXY / HTTPS_PROXY.
  proxy: { listen: 127.0.0.1:3128 }
  # Reverse routes (see \`routes\` below): http://127.0.0.1:3129/<route>/...
  reverse: { listen: 127.0.0.1:3129 }
  # /healthz and /metrics.
  control: { listen: 127.0.0.1:3130 }
  timeouts: { connect: 10s, headers: 60s, body: 300s, idle: 120s }
  shutdownGrace: 10s
  logLevel: info

# The humans agents answer to. Every agent needs an owner listed here.
people:
  - email: alice@example.com
    name: Alice Example
    teams: [platform]

agents:
  - name: build-bot
    owner: alice@example.com
    team: platform
    policies: [github-read, llm]
    description: CI agent that reads repositories and asks a model for reviews

policies:
  - name: github-read
    mode: enforce
    rules:
      # Read-only access to repository data, with the GitHub token added by the relay.
      - name: read-repos
        effect: allow
        hosts: [api.github.com]
        methods: [GET, HEAD]
        paths: ['/repos/**']
        credential: github-token
      # Deny wins over allow: nothing under /admin, whatever other rules say.
      - name: no-admin
        effect: deny
        hosts: [api.github.com]
        paths: ['/admin/**']

  - name: llm
    rules:
      # Reached through the \`openai\` route below, or directly through the proxy.
      - name: chat
        hosts: [api.openai.com]
        methods: [POST]
        paths: [/v1/chat/completions, /v1/responses]
        credential: openai-key
      - name: models
        hosts: [api.openai.com]
        methods: [GET]
        paths: ['/v1/models', '/v1/models/*']
        credential: openai-key

  # A policy in report mode forwards what it would deny and records it as would_deny: a way
  # to learn what an agent needs before enforcing.
  # - name: observe-npm
  #   mode: report
  #   rules:
  #     - name: registry
  #       hosts: [registry.npmjs.org]
  #       methods: [GET]

# Secrets live encrypted in the state directory (\`tollgate secret set <name>\`); the agent never
# sees them. Each credential is sent only to its hosts.
credentials:
  - name: github-token
    secret: github-token
    hosts: [api.github.com]
    header: { name: Authorization, format: 'Bearer {secret}' }
  - name: openai-key
    secret: openai-key
    hosts: [api.openai.com]
    header: { name: Authorization, format: 'Bearer {secret}' }

# Reverse routes: OPENAI_BASE_URL=http://127.0.0.1:3129/openai/v1 reaches
# https://api.openai.com/v1 after the same policy checks as proxied requests.
routes:
  - name: openai
    upstream: https://api.openai.com

# Extra CA certificates for upstreams with a private CA.
# upstreams:
#   - host: internal.example
#     caFile: ./internal-ca.pem
`
