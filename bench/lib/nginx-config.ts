/** The fixed response body: 1 KiB, the size the reference figures use. */
export const BODY_BYTES = 1024

/**
 * Response headers the upstream adds so a preflight request can prove that a proxy really
 * added its request header (or injected its credential) without echoing any value back.
 */
export const SEEN_BENCH_HEADER = 'x-seen-bench'
export const SEEN_KEY_HEADER = 'x-seen-key'

/**
 * Directives every bench nginx shares: foreground under our supervisor, one worker, all
 * writable paths inside the run's temp dir (nginx's compiled-in paths need root-owned dirs).
 */
function mainContext(dir: string, name: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections 4096; }
`
}

function httpCommon(dir: string, name: string): string {
  return `access_log off;
  client_body_temp_path ${dir}/${name}-client-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  # The default of 1000 would close every client connection 1000 requests in: at ~100k
  # requests/s that is a reconnect storm, not keep-alive.
  keepalive_requests 1000000;
  keepalive_timeout 60s;`
}

/** nginx serving the fixed 1 KiB body on `port`. */
export function upstreamConfig(dir: string, port: number): string {
  const body = 'x'.repeat(BODY_BYTES)

  return `${mainContext(dir, 'upstream')}
http {
  ${httpCommon(dir, 'upstream')}
  map $http_x_bench $seen_bench { "" 0; default 1; }
  map $http_x_api_key $seen_key { "" 0; default 1; }
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type application/octet-stream;
      add_header X-Seen-Bench $seen_bench;
      add_header X-Seen-Key $seen_key;
      return 200 '${body}';
    }
  }
}
`
}

/** nginx reverse-proxying `port` to the upstream over kept-alive connections, adding a header. */
export function reverseProxyConfig(dir: string, port: number, upstreamPort: number): string {
  return `${mainContext(dir, 'reverse')}
http {
  ${httpCommon(dir, 'reverse')}
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      # HTTP/1.1 without "Connection: close" is what lets nginx reuse upstream connections.
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $proxy_host;
      proxy_set_header X-Bench 1;
    }
  }
}
`
}
