/**
 * The floor under any Node.js relay built like Tollgate: Node's HTTP server in front of an
 * undici pool, forwarding absolute-form GETs to one upstream and adding the bench header, with
 * no identity, policy, injection, scrubbing or audit. The `node-floor` bench scenario runs it
 * beside Tollgate so a reader can tell the cost of governance from the cost of the platform.
 *
 * Usage: node dist/bench/node-floor-proxy.js <listen port> <upstream port>
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number)
if (!listenPort || !upstreamPort) {
  console.error('usage: node-floor-proxy <listen port> <upstream port>')
  process.exit(2)
}

const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 256 })

const server = createServer((req, res) => {
  // Only the path goes upstream, as a proxy does with an absolute-form target.
  const path = new URL(req.url ?? '/', 'http://placeholder').pathname
  pool
    .request({ path, method: 'GET', headers: { host: req.headers.host ?? '', 'x-bench': '1' } })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, headers as Record<string, string>)
      body.pipe(res)
    })
    .catch(() => {
      res.writeHead(502).end()
    })
})

server.keepAliveTimeout = 120_000
server.listen(listenPort, '127.0.0.1')
