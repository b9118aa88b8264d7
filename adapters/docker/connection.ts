/**
 * One engine connection: a dockerode modem configured from an `EngineConfig`, isolated from the
 * process environment (docker-modem reads DOCKER_HOST & co. by default; every such key is set
 * explicitly here), with a connect timeout, and a call helper that bounds each call in time and
 * translates its failure.
 */
import Dockerode from "dockerode"
import type { Agent } from "node:http"
import type { ServerHostKeyAlgorithm } from "ssh2"
import type { Readable } from "node:stream"
import { inspect } from "node:util"
import { Effect, Result } from "effect"
import type { DockerError } from "./Docker.ts"
import { httpAgent, httpsAgent } from "./connect-agent.ts"
import { DEFAULT_ENDPOINT, type EngineConfig, formatEndpoint, loadTls, parseEndpoint } from "./endpoint.ts"
import { hostKeyCheck } from "./host-keys.ts"
import { SshAgent } from "./ssh-agent.ts"
import { type CallContext, engineError, hostKeyRefused, translateError } from "./translate-error.ts"

type Modem = Dockerode["modem"]
/** docker-modem also takes an http(s) agent; dockerode's types leave it out. */
type ModemOptions = Dockerode.DockerOptions & { readonly agent?: Agent | undefined }
export const CONNECT_TIMEOUT_MS = 3_000
export const OPERATION_TIMEOUT_MS = 60_000
export const PULL_TIMEOUT_MS = 15 * 60_000

export interface Connection {
  readonly host: string
  /** The endpoint, as shown in messages. */
  readonly endpoint: string
  readonly modem: Modem
  /** ssh:// only: why the host key was refused, when it was (known_hosts, see host-keys.ts). */
  readonly hostKeyRefusal?: (() => string | undefined) | undefined
}

/**
 * docker-modem formats every request's options with `util.inspect(options, { showHidden: true,
 * depth: null })` for its debug log, whether debugging is on or not. The options hold the agent,
 * and through it every open socket: walking them costs tens of milliseconds of CPU per request,
 * more with each socket in use (30 concurrent creates blocked the event loop for seconds, long
 * enough for the connect timeout to fail healthy connections). An agent that prints as its name
 * makes that formatting free.
 */
const opaque = <A extends Agent>(agent: A, name: string): A =>
  Object.defineProperty(agent, inspect.custom, { value: () => name, enumerable: false })

export const connect = (config: EngineConfig): Result.Result<Connection, string> =>
  Result.gen(function* () {
    const raw = config.endpoint ?? DEFAULT_ENDPOINT
    const endpoint = yield* Result.mapError(parseEndpoint(raw), (e) => `engine "${config.name}": ${e}`)
    const none = { socketPath: undefined, host: undefined, port: undefined, username: undefined, timeout: undefined }
    const clean = { ...none, ca: undefined, cert: undefined, key: undefined, version: undefined, headers: {} }
    let options: ModemOptions
    let hostKeyRefusal: Connection["hostKeyRefusal"]
    if (endpoint._tag === "unix") {
      options = {
        ...clean,
        socketPath: endpoint.path,
        protocol: "http",
        agent: opaque(httpAgent(CONNECT_TIMEOUT_MS), "HttpConnectAgent")
      }
    } else if (endpoint._tag === "ssh") {
      if (config.tls !== undefined)
        return yield* Result.fail(`engine "${config.name}": TLS files are for tcp:// endpoints, not ssh://`)
      const agent = process.env.SSH_AUTH_SOCK
      const check = hostKeyCheck(endpoint.host, endpoint.port, config.ssh)
      hostKeyRefusal = check.refusal
      // The host and port are only the HTTP Host header: SshAgent makes the connection.
      options = {
        ...clean,
        protocol: "http",
        host: endpoint.host,
        port: endpoint.port ?? 22,
        agent: opaque(
          new SshAgent({
            host: endpoint.host,
            port: endpoint.port ?? 22,
            ...(endpoint.user === undefined ? {} : { username: endpoint.user }),
            readyTimeout: CONNECT_TIMEOUT_MS,
            ...(agent === undefined ? {} : { agent }),
            hostVerifier: (key: Buffer) => check.verify(key),
            algorithms: { serverHostKey: [...check.algorithms] as Array<ServerHostKeyAlgorithm> }
          }),
          "SshAgent"
        )
      }
    } else if (config.tls === undefined) {
      options = {
        ...clean,
        protocol: "http",
        host: endpoint.host,
        port: endpoint.port,
        agent: opaque(httpAgent(CONNECT_TIMEOUT_MS), "HttpConnectAgent")
      }
    } else {
      const tls = yield* loadTls(config.name, config.tls)
      options = {
        ...clean,
        protocol: "https",
        host: endpoint.host,
        port: endpoint.port,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        agent: opaque(httpsAgent(CONNECT_TIMEOUT_MS, { rejectUnauthorized: tls.verify }), "HttpsConnectAgent")
      }
    }
    try {
      return {
        host: config.name,
        endpoint: formatEndpoint(endpoint),
        modem: new Dockerode(options).modem,
        ...(hostKeyRefusal === undefined ? {} : { hostKeyRefusal })
      }
    } catch (e) {
      return yield* Result.fail(`engine "${config.name}": ${e instanceof Error ? e.message : String(e)}`)
    }
  })

export interface CallOptions {
  readonly method: "GET" | "POST" | "DELETE"
  readonly path: string
  readonly query?: Readonly<Record<string, unknown>> | undefined
  readonly body?: unknown
  /** A raw body (a tar archive), sent as `application/tar` instead of `body`. */
  readonly file?: Buffer | undefined
  /** Statuses that are not failures, besides 2xx. */
  readonly alsoOk?: ReadonlyArray<number> | undefined
  readonly timeoutMs?: number | undefined
}

const statusCodes = (alsoOk: ReadonlyArray<number> | undefined): Record<number, boolean> => {
  const codes: Record<number, boolean> = { 200: true, 201: true, 204: true }
  for (const c of alsoOk ?? []) codes[c] = true
  return codes
}

/** ssh2's error when the host verifier said no. */
const isHostDenied = (e: unknown): boolean => e instanceof Error && /Host denied/i.test(e.message)

const dial = (conn: Connection, ctx: CallContext, options: CallOptions, isStream: boolean) =>
  Effect.tryPromise({
    try: (signal) =>
      new Promise<unknown>((resolve, reject) => {
        conn.modem.dial(
          {
            path: `${options.path}?`,
            method: options.method,
            // `_query` must be set or dockerode puts the whole options object in the query string;
            // an empty `_body` sends no body.
            options: { _query: options.query ?? {}, _body: options.body ?? {} },
            statusCodes: statusCodes(options.alsoOk),
            isStream,
            ...(options.file === undefined ? {} : { file: options.file }),
            abortSignal: signal
          },
          (err, data) => (err === null ? resolve(data) : reject(err))
        )
      }),
    catch: (e) => {
      // ssh2 says only "Host denied"; the check knows why.
      const refusal = conn.hostKeyRefusal?.()
      return refusal !== undefined && isHostDenied(e) ? hostKeyRefused(ctx, refusal) : translateError(e, ctx)
    }
  }).pipe(
    Effect.timeoutOrElse({
      duration: options.timeoutMs ?? OPERATION_TIMEOUT_MS,
      orElse: () =>
        Effect.fail(engineError(ctx, "timeout", `no answer within ${options.timeoutMs ?? OPERATION_TIMEOUT_MS} ms`))
    })
  )

/** One request; the engine's JSON answer (or a Buffer when it is not JSON). */
export const call = (conn: Connection, ctx: CallContext, options: CallOptions): Effect.Effect<unknown, DockerError> =>
  dial(conn, ctx, options, false)

/** One request whose answer is a stream; the timeout covers getting the response headers. */
export const callStream = (
  conn: Connection,
  ctx: CallContext,
  options: CallOptions
): Effect.Effect<Readable, DockerError> => Effect.map(dial(conn, ctx, options, true), (res) => res as Readable)
