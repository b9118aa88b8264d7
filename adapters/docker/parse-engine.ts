/**
 * The engine's JSON (list, inspect, events) read into moor's observed model. Pure and defensive:
 * a field of the wrong type is treated as absent. Times become epoch ms; names lose the leading "/".
 * Health is only reported for a running or paused container (the engine keeps a stale "unhealthy"
 * on a stopped one).
 */
import type {
  ContainerState,
  Health,
  ObservedContainer,
  ObservedImage,
  ObservedNetwork,
  ObservedVolume
} from "../../core/model/observed.ts"
import type { EngineEvent } from "./Docker.ts"

type Json = Record<string, unknown>

export const rec = (x: unknown): Json => (typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Json) : {})
export const arr = (x: unknown): ReadonlyArray<unknown> => (Array.isArray(x) ? x : [])
export const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined)
export const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined)
export const strMap = (x: unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(rec(x))) if (typeof v === "string") out[k] = v
  return out
}

const states: ReadonlySet<string> = new Set([
  "created",
  "running",
  "paused",
  "restarting",
  "exited",
  "dead",
  "removing"
])
const stateOf = (x: unknown): ContainerState => {
  const s = str(x)?.toLowerCase() ?? ""
  return states.has(s) ? (s as ContainerState) : "dead"
}
const healths: ReadonlySet<string> = new Set(["starting", "healthy", "unhealthy"])
const liveStates: ReadonlySet<ContainerState> = new Set(["running", "paused"])

/** ISO time (nanosecond precision allowed) to epoch ms; the engine's zero time ("0001-...") is absent. */
export const parseTime = (x: unknown): number | undefined => {
  const s = str(x)
  if (s === undefined || s.startsWith("0001-01-01")) return undefined
  const t = Date.parse(s)
  return Number.isNaN(t) ? undefined : t
}

export const stripSlash = (name: string): string => (name.startsWith("/") ? name.slice(1) : name)

/** The health the list's Status text shows: "Up 3 minutes (healthy)", "(health: starting)"... */
export const healthFromStatus = (status: string): Health =>
  /\(unhealthy\)/.test(status)
    ? "unhealthy"
    : /\(healthy\)/.test(status)
      ? "healthy"
      : /\(health: starting\)/.test(status)
        ? "starting"
        : "none"

/** The exit code in "Exited (3) 2 seconds ago" or "Restarting (3) 1 second ago". */
export const exitCodeFromStatus = (status: string): number | undefined => {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

const withOptional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }

/** One entry of `GET /containers/json?all=1`. */
export const containerFromList = (raw: unknown): ObservedContainer => {
  const c = rec(raw)
  const names = arr(c.Names).flatMap((n) => (typeof n === "string" ? [stripSlash(n)] : []))
  const name = names.find((n) => !n.includes("/")) ?? names[0] ?? ""
  const state = stateOf(c.State)
  const status = str(c.Status) ?? ""
  const ports = [
    ...new Set(
      arr(c.Ports).flatMap((p) => {
        const port = num(rec(p).PublicPort)
        return port === undefined || port === 0 ? [] : [port]
      })
    )
  ].sort((a, b) => a - b)
  const created = num(c.Created)
  return {
    id: str(c.Id) ?? "",
    name,
    labels: strMap(c.Labels),
    state,
    health: liveStates.has(state) ? healthFromStatus(status) : "none",
    ...withOptional(
      "exitCode",
      state === "exited" || state === "restarting" || state === "dead" ? exitCodeFromStatus(status) : undefined
    ),
    image: str(c.Image) ?? "",
    imageId: str(c.ImageID) ?? "",
    ...withOptional("createdAt", created === undefined ? undefined : created * 1000),
    ...(ports.length === 0 ? {} : { publishedPorts: ports })
  }
}

/** Containers `observe` inspects: not in a steady state. */
export const needsInspect = (c: ObservedContainer): boolean =>
  c.state === "restarting" || c.state === "exited" || c.state === "dead" || c.health === "unhealthy"

/**
 * Since when the container has been unhealthy, from the health log (the last probes, oldest first):
 * the probe whose failure made the failing streak reach `retries`. When that probe has left the
 * log, the oldest failure in the log's trailing run: a lower bound on how long it has been unhealthy.
 */
export const unhealthySinceOf = (health: Json, retries: number): number | undefined => {
  const log = arr(health.Log).map(rec)
  const streak = num(health.FailingStreak) ?? 0
  let firstFailure = log.length
  while (firstFailure > 0 && (num(log[firstFailure - 1]?.ExitCode) ?? 0) !== 0) firstFailure--
  if (firstFailure === log.length) return undefined
  const turning = log.length - 1 - (streak - Math.max(retries, 1))
  const entry = turning >= firstFailure && turning < log.length ? log[turning] : log[firstFailure]
  return parseTime(entry?.End) ?? parseTime(entry?.Start)
}

/** `GET /containers/{id}/json`. */
export const containerFromInspect = (raw: unknown): ObservedContainer => {
  const c = rec(raw)
  const config = rec(c.Config)
  const st = rec(c.State)
  const state = stateOf(st.Status)
  const healthJson = rec(st.Health)
  const healthRaw = str(healthJson.Status) ?? ""
  const health: Health = liveStates.has(state) && healths.has(healthRaw) ? (healthRaw as Health) : "none"
  const exitCode = num(st.ExitCode)
  const stopped = !liveStates.has(state)
  const retries = num(rec(config.Healthcheck).Retries) ?? 0
  const ports = [
    ...new Set(
      Object.values(rec(rec(c.NetworkSettings).Ports)).flatMap((bindings) =>
        arr(bindings).flatMap((b) => {
          const p = Number(str(rec(b).HostPort) ?? "")
          return Number.isInteger(p) && p > 0 ? [p] : []
        })
      )
    )
  ].sort((a, b) => a - b)
  return {
    id: str(c.Id) ?? "",
    name: stripSlash(str(c.Name) ?? ""),
    labels: strMap(config.Labels),
    state,
    health,
    ...withOptional("exitCode", stopped && (state !== "created" || exitCode !== 0) ? exitCode : undefined),
    image: str(config.Image) ?? "",
    imageId: str(c.Image) ?? "",
    ...withOptional("createdAt", parseTime(c.Created)),
    ...withOptional("startedAt", parseTime(st.StartedAt)),
    ...withOptional("finishedAt", parseTime(st.FinishedAt)),
    ...withOptional(
      "unhealthySince",
      health === "unhealthy" ? unhealthySinceOf(healthJson, retries === 0 ? 3 : retries) : undefined
    ),
    ...withOptional("restartCount", num(c.RestartCount)),
    ...(ports.length === 0 ? {} : { publishedPorts: ports })
  }
}

/** What an engine says of itself in `GET /version`: its release and the newest API version it speaks. */
export interface EngineSelf {
  readonly engineVersion?: string
  readonly apiVersion?: string
}

/** `GET /version`. */
export const engineFromVersion = (raw: unknown): EngineSelf => {
  const v = rec(raw)
  return { ...withOptional("engineVersion", str(v.Version)), ...withOptional("apiVersion", str(v.ApiVersion)) }
}

export const volumeFromList = (raw: unknown): ObservedVolume => {
  const v = rec(raw)
  return { name: str(v.Name) ?? "", labels: strMap(v.Labels) }
}

const bool = (x: unknown): boolean | undefined => (typeof x === "boolean" ? x : undefined)

/** A network as `GET /networks` lists it, with the settings a declaration is compared with. */
export const networkFromList = (raw: unknown): ObservedNetwork => {
  const n = rec(raw)
  const ipam = n.IPAM === undefined ? undefined : rec(n.IPAM)
  return {
    name: str(n.Name) ?? "",
    id: str(n.Id) ?? "",
    labels: strMap(n.Labels),
    ...withOptional("driver", str(n.Driver)),
    ...withOptional("internal", bool(n.Internal)),
    ...withOptional("attachable", bool(n.Attachable)),
    ...withOptional("enableIpv6", bool(n.EnableIPv6)),
    ...(n.Options === undefined ? {} : { options: strMap(n.Options) }),
    ...(ipam === undefined
      ? {}
      : {
          ipam: {
            ...withOptional("driver", str(ipam.Driver)),
            config: arr(ipam.Config).map((c) => {
              const pool = rec(c)
              return {
                ...withOptional("subnet", str(pool.Subnet)),
                ...withOptional("ipRange", str(pool.IPRange)),
                ...withOptional("gateway", str(pool.Gateway))
              }
            })
          }
        })
  }
}

export const imageFromList = (raw: unknown): ObservedImage => {
  const i = rec(raw)
  const digests = arr(i.RepoDigests).flatMap((d) => (typeof d === "string" && !d.startsWith("<none>") ? [d] : []))
  return {
    id: str(i.Id) ?? "",
    tags: arr(i.RepoTags).flatMap((t) => (typeof t === "string" && t !== "<none>:<none>" ? [t] : [])),
    ...(digests.length === 0 ? {} : { digests })
  }
}

/** Event attributes that are not container labels. */
const nonLabelAttributes: ReadonlySet<string> = new Set([
  "name",
  "image",
  "exitCode",
  "signal",
  "execID",
  "execDuration"
])

/** One line of `GET /events`; undefined for anything but a container event. */
export const eventFromEngine = (raw: unknown): EngineEvent | undefined => {
  const e = rec(raw)
  if (str(e.Type) !== "container") return undefined
  const action = str(e.Action) ?? str(e.status)
  const actor = rec(e.Actor)
  const attributes = strMap(actor.Attributes)
  const id = str(actor.ID) ?? str(e.id)
  if (action === undefined || id === undefined) return undefined
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(attributes)) if (!nonLabelAttributes.has(k)) labels[k] = v
  const nano = num(e.timeNano)
  const seconds = num(e.time) ?? 0
  return {
    action,
    containerId: id,
    name: attributes.name ?? "",
    labels,
    at: nano === undefined ? seconds * 1000 : Math.floor(nano / 1e6)
  }
}
