/**
 * The process script(1) runs on its pseudo-terminal for `tollgate run` (see pty-relay.ts):
 * `node pty-relay-main.js SPEC_JSON`. Not a user command.
 */
import { BRIDGE_FAILED_STATUS } from '../box-paths.js'
import { parsePtyRelaySpec, runPtyRelay } from './pty-relay.js'

try {
  process.exit(await runPtyRelay(parsePtyRelaySpec(process.argv[2] ?? '')))
} catch (error) {
  process.stderr.write(`tollgate: the terminal relay could not start: ${String(error)}\n`)
  process.exit(BRIDGE_FAILED_STATUS)
}
