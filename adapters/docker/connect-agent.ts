/**
 * HTTP(S) agents that give up on a connection the engine does not accept within a few seconds, and
 * mark every error that happens before the connection is usable (refused, missing socket, TLS
 * handshake) so that it is reported as `unreachable` rather than as a failed operation.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { Duplex } from "node:stream"

const CONNECT_PHASE = Symbol.for("moor/docker/connect-phase")

/** True when the error happened while connecting (before the engine could read a request). */
export const isConnectPhaseError = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[CONNECT_PHASE] === true

const mark = (e: unknown): void => {
  if (typeof e === "object" && e !== null) (e as Record<symbol, unknown>)[CONNECT_PHASE] = true
}

/** The error a connection attempt ends with when the engine does not accept it in time. */
export class ConnectTimeoutError extends Error {
  readonly code = "ECONNECTTIMEOUT"
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(`no connection within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
    mark(this)
  }
}

const watch = (socket: Duplex | null | undefined, readyEvent: "connect" | "secureConnect", timeoutMs: number) => {
  if (socket === null || socket === undefined) return
  let ready = false
  const timer = setTimeout(() => {
    if (!ready) socket.destroy(new ConnectTimeoutError(timeoutMs))
  }, timeoutMs)
  timer.unref()
  socket.once(readyEvent, () => {
    ready = true
    clearTimeout(timer)
  })
  socket.on("error", (e) => {
    if (!ready) mark(e)
  })
  socket.once("close", () => clearTimeout(timer))
}

class HttpConnectAgent extends http.Agent {
  readonly connectTimeoutMs: number
  constructor(connectTimeoutMs: number) {
    super({ keepAlive: true })
    this.connectTimeoutMs = connectTimeoutMs
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback)
    watch(socket, "connect", this.connectTimeoutMs)
    return socket
  }
}

class HttpsConnectAgent extends https.Agent {
  readonly connectTimeoutMs: number
  constructor(connectTimeoutMs: number, options: https.AgentOptions) {
    super({ keepAlive: true, ...options })
    this.connectTimeoutMs = connectTimeoutMs
  }
  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback)
    watch(socket, "secureConnect", this.connectTimeoutMs)
    return socket
  }
}

export const httpAgent = (connectTimeoutMs: number): http.Agent => new HttpConnectAgent(connectTimeoutMs)

export const httpsAgent = (connectTimeoutMs: number, options: { readonly rejectUnauthorized: boolean }): https.Agent =>
  new HttpsConnectAgent(connectTimeoutMs, { rejectUnauthorized: options.rejectUnauthorized })
