/**
 * The one place where foreign failures (HTTP statuses from the engine, socket and TLS errors, ssh
 * errors) become a `DockerError`. The in-memory engine builds its errors with `engineError` too, so
 * both say the same thing in the same words.
 */
import { DockerError, type DockerErrorKind } from "./Docker.ts"
import { isConnectPhaseError } from "./connect-agent.ts"

/** One engine API call. The names are used in errors (`op`), call counts and failure injection. */
export type EngineCall =
  | "ping"
  | "version"
  | "containers.list"
  | "volumes.list"
  | "networks.list"
  | "images.list"
  | "container.inspect"
  | "container.create"
  | "network.connect"
  | "container.start"
  | "container.stop"
  | "container.remove"
  | "container.rename"
  | "exec.create"
  | "exec.start"
  | "exec.inspect"
  | "container.logs"
  | "events"
  | "image.pull"
  | "network.create"
  | "network.remove"
  | "network.inspect"
  | "volume.create"
  | "volume.remove"
  | "lock.create"
  | "lock.inspect"
  | "lock.remove"
  | "lock.renew"
  | "lock.list"
  | "lock.image"

const verbs: Record<EngineCall, string> = {
  ping: "ping the engine",
  version: "read the engine's version",
  "containers.list": "list containers",
  "volumes.list": "list volumes",
  "networks.list": "list networks",
  "images.list": "list images",
  "container.inspect": "inspect container",
  "container.create": "create container",
  "network.connect": "connect to network",
  "container.start": "start container",
  "container.stop": "stop container",
  "container.remove": "remove container",
  "container.rename": "rename container",
  "exec.create": "create exec in container",
  "exec.start": "run exec in container",
  "exec.inspect": "inspect exec in container",
  "container.logs": "read logs of container",
  events: "follow events",
  "image.pull": "pull image",
  "network.create": "create network",
  "network.remove": "remove network",
  "network.inspect": "inspect network",
  "volume.create": "create volume",
  "volume.remove": "remove volume",
  "lock.create": "take the engine lock",
  "lock.inspect": "read the engine lock",
  "lock.remove": "release the engine lock",
  "lock.renew": "renew the engine lock",
  "lock.list": "list the engine lock's renewals",
  "lock.image": "import the engine lock's empty image"
}

export interface CallContext {
  readonly host: string
  readonly op: EngineCall
  /** What the call is about: a container, network, volume or image name. */
  readonly target?: string | undefined
  /** How the engine is reached, for `unreachable` messages. */
  readonly endpoint?: string | undefined
}

export const describeCall = (ctx: CallContext): string =>
  `${verbs[ctx.op]}${ctx.target === undefined ? "" : ` "${ctx.target}"`} on host "${ctx.host}"`

export const engineError = (
  ctx: CallContext,
  kind: DockerErrorKind,
  reason: string,
  status?: number | undefined
): DockerError =>
  new DockerError({
    host: ctx.host,
    op: ctx.op,
    kind,
    message: `${describeCall(ctx)}: ${reason}`,
    ...(status === undefined ? {} : { status })
  })

/** The reason given for a host that does not answer, with the endpoint when known. */
export const unreachableReason = (ctx: CallContext, detail: string): string =>
  `the engine${ctx.endpoint === undefined ? "" : ` at ${ctx.endpoint}`} did not answer: ${detail}`

/** An ssh:// engine whose host key was refused: nothing was sent to it, so it is unreachable. */
export const hostKeyRefused = (ctx: CallContext, why: string): DockerError =>
  engineError(
    ctx,
    "unreachable",
    `the engine${ctx.endpoint === undefined ? "" : ` at ${ctx.endpoint}`} was not contacted: ssh: ${why}`
  )

/** An error the engine answered with an HTTP status and a message. */
export const statusError = (ctx: CallContext, status: number, engineMessage: string): DockerError =>
  engineError(ctx, kindOfStatus(status, engineMessage), `${engineMessage} (HTTP ${status})`, status)

export const kindOfStatus = (status: number, engineMessage: string): DockerErrorKind => {
  if (status === 404) return "not-found"
  if (status === 409) return "conflict"
  // The engine answers 403 when a network still has containers attached: a conflict like any other.
  if (status === 403 && /active endpoints/i.test(engineMessage)) return "conflict"
  if (status === 408) return "timeout"
  // Answered with 500, but no retry helps while another container holds the port.
  if (status === 500 && /port is already allocated|address already in use/i.test(engineMessage)) return "rejected"
  if (status >= 500) return "transient"
  return "rejected"
}

const connectCodes: Record<string, string> = {
  ENOENT: "no socket file there (is the engine running? is the endpoint right?)",
  ECONNREFUSED: "connection refused",
  EACCES: "permission denied (may this user use the engine's socket?)",
  EPERM: "permission denied",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host is down",
  ENOTFOUND: "cannot resolve the host name",
  EAI_AGAIN: "cannot resolve the host name (temporary DNS failure)",
  ECONNECTTIMEOUT: "no connection within the connect timeout",
  ENOTSOCK: "the path is not a socket"
}

const isTlsCode = (code: string): boolean =>
  code.startsWith("ERR_SSL_") ||
  code.startsWith("ERR_TLS_") ||
  code.startsWith("CERT_") ||
  code.startsWith("UNABLE_TO_") ||
  code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
  code === "SELF_SIGNED_CERT_IN_CHAIN" ||
  code === "EPROTO"

interface ForeignError {
  readonly message: string
  readonly code?: string | undefined
  readonly statusCode?: number | undefined
  readonly json?: unknown
  readonly level?: string | undefined
  readonly name?: string | undefined
}

const asForeign = (e: unknown): ForeignError => {
  if (typeof e !== "object" || e === null) return { message: String(e) }
  const r = e as Record<string, unknown>
  return {
    message: typeof r.message === "string" ? r.message : String(e),
    code: typeof r.code === "string" ? r.code : undefined,
    statusCode: typeof r.statusCode === "number" ? r.statusCode : undefined,
    json: r.json,
    level: typeof r.level === "string" ? r.level : undefined,
    name: typeof r.name === "string" ? r.name : undefined
  }
}

/** The engine's own words from a failed HTTP call (dockerode puts the body in `json`). */
export const engineMessageOf = (e: { readonly message: string; readonly json?: unknown }): string => {
  const json = e.json
  if (typeof json === "object" && json !== null && !Buffer.isBuffer(json)) {
    const m = (json as Record<string, unknown>).message
    if (typeof m === "string" && m !== "") return m
  }
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString("utf8").trim()
  if (typeof json === "string" && json !== "") return json.trim()
  // "(HTTP code 404) no such container - No such container: x "
  const m = /^\(HTTP code \d+\)\s*[^-]*-\s*(.*)$/s.exec(e.message)
  return (m?.[1] ?? e.message).trim()
}

export const translateError = (e: unknown, ctx: CallContext): DockerError => {
  if (e instanceof DockerError) return e
  const f = asForeign(e)
  if (f.statusCode !== undefined) {
    return statusError(ctx, f.statusCode, engineMessageOf(f))
  }
  const code = f.code ?? ""
  if (code in connectCodes) {
    const detail = code === "ECONNECTTIMEOUT" ? f.message : connectCodes[code]
    return engineError(ctx, "unreachable", unreachableReason(ctx, `${detail} (${code})`))
  }
  if (isTlsCode(code))
    return engineError(ctx, "unreachable", unreachableReason(ctx, `TLS failed: ${f.message} (${code})`))
  if (f.level?.startsWith("client-"))
    return engineError(ctx, "unreachable", unreachableReason(ctx, `ssh: ${f.message}`))
  if (isConnectPhaseError(e))
    return engineError(ctx, "unreachable", unreachableReason(ctx, `${f.message}${code === "" ? "" : ` (${code})`}`))
  if (code === "ECONNRESET" || code === "EPIPE" || /socket hang up/i.test(f.message))
    return engineError(ctx, "transient", `the connection broke: ${f.message}${code === "" ? "" : ` (${code})`}`)
  if (code === "ETIMEDOUT" || f.name === "AbortError" || f.name === "TimeoutError")
    return engineError(ctx, "timeout", `no answer in time: ${f.message}`)
  if (code.startsWith("E")) return engineError(ctx, "transient", `${f.message} (${code})`)
  return engineError(ctx, "rejected", f.message)
}
