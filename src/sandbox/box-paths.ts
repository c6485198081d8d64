/** Where things are inside every box. Stable: agents and docs/sandbox.md rely on them. */
export const BOX_RUN_DIR = '/run/tollgate'
export const BOX_RELAY_SOCKET = `${BOX_RUN_DIR}/relay.sock`
export const BOX_CA_FILE = `${BOX_RUN_DIR}/ca.pem`
/** Debian's system trust bundle, replaced inside the box by the relay CA. */
export const BOX_SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
/** The in-box bridge from loopback TCP to the relay socket, for proxy-aware clients. */
export const BOX_PROXY_PORT = 3128
export const BOX_PROXY_URL = `http://127.0.0.1:${BOX_PROXY_PORT}`
/** The fresh working directory when the host's is not shared. */
export const BOX_FRESH_WORKDIR = '/work'
/** Exit status of the wrapper when the bridge never came up (the agent did not run). */
export const BRIDGE_FAILED_STATUS = 125
