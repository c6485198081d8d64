/**
 * squid as a plain forward proxy for the bench: no cache in memory or on disk, no access log,
 * every file it writes inside the run's temp dir, and one request header added like the other
 * proxies. `request_header_add` exists since squid 3.3; Debian 12 ships 5.7.
 */
export function squidConfig(dir: string, port: number): string {
  return `http_port 127.0.0.1:${port}
visible_hostname tollgate-bench
workers 1

http_access allow localhost
http_access deny all

cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
netdb_filename none
cache_log ${dir}/squid-cache.log
pid_filename ${dir}/squid.pid
coredump_dir ${dir}

request_header_add X-Bench "1" all

# A short grace keeps teardown quick; the bench has no in-flight work worth waiting for.
shutdown_lifetime 1 second
`
}
