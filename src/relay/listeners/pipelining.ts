import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Pipelined requests and the answers ahead of them. Node's parser reads every request already
 * in its buffer and hands each one over at once, while the answers go out one after another:
 * until an earlier answer is out, the socket is that answer's.
 */

/** The answer Node is writing on this socket, if any (`_httpMessage`, as `client-error.ts`). */
function answerInProgress(socket: Duplex): ServerResponse | null {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? null
}

/** The relay's side of the connection is ending: nothing more will be answered on it. */
function isClosing(socket: Duplex): boolean {
  return socket.destroyed || socket.writableEnded
}

/**
 * Whether a request came pipelined behind an answer that closes the connection (a 401 or 407,
 * a framing the relay would not trust, a 421). Its own answer could never be written, and
 * behind a refused framing it is exactly where a smuggled request would begin: decided and
 * forwarded, it would act upstream unseen. Like any byte after such an answer (see
 * `handleClientError`), it is not read: no decision, no audit event, no answer.
 */
export function isBehindClosingAnswer(socket: Duplex, own: ServerResponse): boolean {
  const earlier = answerInProgress(socket)
  if (earlier !== null && earlier !== own && !earlier.shouldKeepAlive) return true
  return isClosing(socket)
}

/**
 * Runs `take` once the relay may take the socket over for a CONNECT or an upgrade pipelined
 * behind other requests. Before their answers are out, writing to the socket would put an
 * answer out of order or inside another, and binding a response to it throws (which, in an
 * event handler, would bring the relay down). Behind an answer that closes the connection,
 * `take` never runs, as for `isBehindClosingAnswer`; Node closes the socket after that answer.
 */
export function whenSocketFree(socket: Duplex, take: () => void): void {
  const earlier = answerInProgress(socket)
  if (earlier === null) {
    if (!isClosing(socket)) take()
    return
  }
  if (!earlier.shouldKeepAlive) return
  // `close` comes after Node has let go of the socket (or handed it to the next answer).
  earlier.once('close', () => whenSocketFree(socket, take))
}
