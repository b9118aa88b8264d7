/**
 * From a desired service to the container the engine should run (`ContainerConfig`), its canonical
 * spec hash, and per-field digests. Defaults the engine applies anyway (restart "no", init false,
 * tcp, a 10 s grace period, empty lists...) are dropped, and orderless collections are sorted,
 * so neither key order nor spelling out a default changes the hash.
 */
import type { App, ExecHook, Service } from "./model/desired.ts"
import type { ContainerConfig, ExecHookConfig } from "./model/plan.ts"
import { containerOptions, optionDigests } from "./container-options.ts"
import { canonicalJson, hash128, hash32 } from "./hash.ts"
import { Label, networkName, normalizeImage, serviceContainerName, volumeName } from "./names.ts"

export const HASH_VERSION = "1"

export interface HashInput {
  /** The container config without moor's own labels. */
  readonly config: ContainerConfig
  readonly configDigests: Readonly<Record<string, string>>
}
export type HashAlgorithm = (input: HashInput) => string
export interface HashAlgorithms {
  readonly current: string
  readonly byVersion: Readonly<Record<string, HashAlgorithm>>
}

/**
 * Version 1: the container config as `containerConfig` builds it (a fixed key order, maps sorted,
 * defaults dropped; its name is always `<app>-<service>-1`), then the config file digests in path
 * order. Changing what this hashes, or the key order `containerConfig` builds, is a new
 * HASH_VERSION: the golden test in test/unit/plan-drift.test.ts fails first.
 */
const hashV1: HashAlgorithm = (input) => {
  let files = ""
  const paths = Object.keys(input.configDigests)
  if (paths.length > 1) paths.sort()
  for (const path of paths) files += `${JSON.stringify(path)}:${JSON.stringify(input.configDigests[path])},`
  return hash128(`${JSON.stringify(input.config)}|${files}`)
}

export const defaultHashAlgorithms: HashAlgorithms = { current: HASH_VERSION, byVersion: { [HASH_VERSION]: hashV1 } }

const sortedUnique = (xs: ReadonlyArray<string> | undefined): Array<string> | undefined =>
  xs === undefined || xs.length === 0 ? undefined : [...new Set(xs)].sort()
const nonEmpty = <A>(xs: ReadonlyArray<A> | undefined): ReadonlyArray<A> | undefined =>
  xs === undefined || xs.length === 0 ? undefined : xs
/** A map with its keys sorted, or undefined when empty. */
const nonEmptyMap = (m: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined => {
  if (m === undefined) return undefined
  const keys = Object.keys(m)
  if (keys.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const key of keys.sort()) out[key] = m[key] ?? ""
  return out
}
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const EMPTY: ReadonlyArray<never> = []

/**
 * `network_mode` as the engine takes it: `service:NAME` becomes `container:<that service's container>`.
 * With a network mode the container joins none of the app's networks.
 */
const networkMode = (app: App, service: Service): string | undefined => {
  const mode = service.networkMode
  if (mode === undefined || !mode.startsWith("service:")) return mode
  return `container:${serviceContainerName(app, mode.slice("service:".length))}`
}

/** `post_start` / `pre_stop` commands, their environment sorted. */
const execHooks = (hooks: ReadonlyArray<ExecHook> | undefined): ContainerConfig["postStart"] => {
  if (hooks === undefined || hooks.length === 0) return undefined
  return hooks.map((h) => {
    const env = h.environment === undefined ? [] : Object.keys(h.environment).sort()
    return {
      command: h.command,
      user: h.user,
      privileged: h.privileged === true ? true : undefined,
      workingDir: h.workingDir,
      env: env.length === 0 ? undefined : env.map((k) => [k, h.environment?.[k] ?? ""] as const)
    } as unknown as ExecHookConfig
  })
}

/** The engine names of the app's networks a service attaches to, with aliases (the service name first). */
const serviceNetworks = (app: App, serviceName: string, service: Service): ContainerConfig["networks"] => {
  if (service.networkMode !== undefined) return EMPTY
  const attachments = service.networks
  if (attachments === undefined)
    return [
      {
        name: networkName(app.name, "default", app.networks?.default?.name),
        aliases: [serviceName],
        ipv4Address: undefined
      } as unknown as Net
    ]
  const keys = Object.keys(attachments)
  // By priority, highest first (the first is the primary network), then by name: Compose's order.
  const priority = (key: string) => attachments[key]?.priority ?? 0
  if (keys.length > 1) keys.sort((a, b) => priority(b) - priority(a) || byString(a, b))
  return keys.map((key) => {
    const attachment = attachments[key] ?? {}
    const extra = attachment.aliases
    const aliases =
      extra === undefined || extra.length === 0
        ? [serviceName]
        : [serviceName, ...extra.filter((a) => a !== serviceName).sort()]
    return {
      name: networkName(app.name, key, app.networks?.[key]?.name),
      aliases,
      ipv4Address: attachment.ipv4Address,
      ipv6Address: attachment.ipv6Address,
      linkLocalIps: sortedUnique(attachment.linkLocalIps),
      macAddress: attachment.macAddress,
      driverOpts: nonEmptyMap(attachment.driverOpts),
      gwPriority: attachment.gwPriority === 0 ? undefined : attachment.gwPriority,
      interfaceName: attachment.interfaceName
    } as unknown as Net
  })
}
type Net = ContainerConfig["networks"][number]

/**
 * The container for `service` of `app`, without moor's labels. Every object is built with all its
 * keys in a fixed order (absent ones `undefined`, which JSON leaves out), so its JSON is stable and
 * cheap to make; `compactConfig` drops the `undefined` keys before the config goes into a plan.
 */
export const containerConfig = (app: App, serviceName: string, service: Service): ContainerConfig => {
  const env = service.environment
  let envPairs: ReadonlyArray<readonly [string, string]> = EMPTY
  if (env !== undefined) {
    const keys = Object.keys(env)
    if (keys.length > 0) {
      const pairs: Array<readonly [string, string]> = []
      for (const key of keys.sort()) pairs.push([key, env[key] ?? ""])
      envPairs = pairs
    }
  }
  const ports =
    service.ports === undefined || service.ports.length === 0
      ? (EMPTY as ContainerConfig["ports"])
      : service.ports
          .map(
            (p) =>
              ({
                target: p.target,
                published: p.published,
                publishedEnd: p.publishedEnd,
                hostIp: p.hostIp === "" ? undefined : p.hostIp,
                protocol: p.protocol ?? "tcp"
              }) as ContainerConfig["ports"][number]
          )
          .sort(
            (a, b) => a.target - b.target || byString(a.protocol, b.protocol) || (a.published ?? 0) - (b.published ?? 0)
          )
  const mounts =
    service.mounts === undefined || service.mounts.length === 0
      ? (EMPTY as ContainerConfig["mounts"])
      : service.mounts
          .map(
            (m) =>
              ({
                type: m.type,
                source:
                  m.type === "volume" && m.source !== undefined
                    ? volumeName(app.name, m.source, app.volumes?.[m.source]?.name)
                    : m.source,
                target: m.target,
                readOnly: m.readOnly ?? false,
                // The options, each only when it is not the engine's default (so no existing mount's JSON changes).
                createHostPath: m.type === "bind" && m.createHostPath === false ? false : undefined,
                propagation: m.type === "bind" && m.propagation !== "rprivate" ? m.propagation : undefined,
                selinux: m.type === "tmpfs" ? undefined : m.selinux,
                noCopy: m.type === "volume" && m.noCopy === true ? true : undefined,
                subpath: m.type === "volume" && m.subpath !== "" ? m.subpath : undefined,
                sizeBytes: m.type === "tmpfs" ? m.sizeBytes : undefined,
                mode: m.type === "tmpfs" && m.mode !== 0o1777 && m.mode !== 0 ? m.mode : undefined
              }) as ContainerConfig["mounts"][number]
          )
          .sort((a, b) => byString(a.target, b.target))
  const hc = service.healthcheck
  const healthcheck =
    hc === undefined
      ? undefined
      : hc.disable === true
        ? { test: ["NONE"] }
        : {
            test: hc.test ?? [],
            intervalMs: hc.intervalMs,
            timeoutMs: hc.timeoutMs,
            startPeriodMs: hc.startPeriodMs,
            startIntervalMs: hc.startIntervalMs,
            retries: hc.retries
          }
  const r = service.resources
  const resources =
    r === undefined || Object.keys(r).length === 0
      ? undefined
      : { cpus: r.cpus, memoryBytes: r.memoryBytes, memoryReservationBytes: r.memoryReservationBytes, pids: r.pids }
  let labels: Record<string, string> = {}
  const userLabels = service.labels
  if (userLabels !== undefined) {
    const keys = Object.keys(userLabels)
    if (keys.length > 1) {
      labels = {}
      for (const key of keys.sort()) labels[key] = userLabels[key] ?? ""
    } else if (keys.length === 1) labels = { [keys[0]!]: userLabels[keys[0]!] ?? "" }
  }
  const config = {
    name: serviceContainerName(app, serviceName),
    image: normalizeImage(service.image),
    command: nonEmpty(service.command),
    entrypoint: nonEmpty(service.entrypoint),
    env: envPairs,
    labels,
    ports,
    mounts,
    networks: serviceNetworks(app, serviceName, service),
    healthcheck,
    restart: service.restart === "no" ? undefined : service.restart,
    user: service.user,
    workingDir: service.workingDir,
    hostname: service.hostname,
    init: service.init === true ? true : undefined,
    stopSignal: service.stopSignal,
    stopGracePeriodMs: service.stopGracePeriodMs === 10_000 ? undefined : service.stopGracePeriodMs,
    extraHosts: sortedUnique(service.extraHosts),
    capAdd: sortedUnique(service.capAdd),
    capDrop: sortedUnique(service.capDrop),
    readOnly: service.readOnly === true ? true : undefined,
    tmpfs: sortedUnique(service.tmpfs),
    resources,
    restartRetries:
      service.restart === "on-failure" && (service.restartRetries ?? 0) > 0 ? service.restartRetries : undefined,
    networkMode: networkMode(app, service),
    postStart: execHooks(service.postStart),
    preStop: execHooks(service.preStop),
    options: containerOptions(app, service.options)
  }
  return config as ContainerConfig
}

const dropUndefined = <A extends object>(o: A): A => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as A
}

/** The config without the `undefined` keys `containerConfig` keeps for speed: what goes into a plan. */
export const compactConfig = (c: ContainerConfig): ContainerConfig => {
  const top = dropUndefined(c)
  return {
    ...top,
    ports: c.ports.map(dropUndefined),
    mounts: c.mounts.map(dropUndefined),
    networks: c.networks.map(dropUndefined),
    ...(c.healthcheck === undefined ? {} : { healthcheck: dropUndefined(c.healthcheck) }),
    ...(c.resources === undefined ? {} : { resources: dropUndefined(c.resources) }),
    ...(c.postStart === undefined ? {} : { postStart: c.postStart.map(dropUndefined) }),
    ...(c.preStop === undefined ? {} : { preStop: c.preStop.map(dropUndefined) })
  }
}

const scalarFields = [
  "image",
  "command",
  "entrypoint",
  "ports",
  "mounts",
  "networks",
  "healthcheck",
  "restart",
  "user",
  "workingDir",
  "hostname",
  "init",
  "stopSignal",
  "stopGracePeriodMs",
  "extraHosts",
  "capAdd",
  "capDrop",
  "readOnly",
  "tmpfs",
  "resources",
  "restartRetries",
  "networkMode",
  "postStart",
  "preStop",
  "labels"
] as const

/** The Compose key a field of the container config comes from, as people read it in a reason. */
const composeKey: Readonly<Record<string, string>> = {
  workingDir: "working_dir",
  stopSignal: "stop_signal",
  stopGracePeriodMs: "stop_grace_period",
  extraHosts: "extra_hosts",
  capAdd: "cap_add",
  capDrop: "cap_drop",
  readOnly: "read_only",
  restartRetries: "restart",
  networkMode: "network_mode",
  postStart: "post_start",
  preStop: "pre_stop",
  networks: "networks",
  mounts: "volumes"
}

/** Short digests per field (`env.KEY` and `file.PATH` per entry), carried on the container as a label. */
export const fieldDigests = (input: HashInput): Record<string, string> => {
  const out: Record<string, string> = {}
  const config = input.config as unknown as Record<string, unknown>
  for (const field of scalarFields) {
    const value = config[field]
    if (value === undefined) continue
    if (Array.isArray(value) && value.length === 0) continue
    if (field === "labels" && Object.keys(value as object).length === 0) continue
    out[field] = hash32(JSON.stringify(value))
  }
  Object.assign(out, optionDigests(input.config.options))
  for (const [key, value] of input.config.env) out[`env.${key}`] = hash32(value)
  for (const path of Object.keys(input.configDigests).sort())
    out[`file.${path}`] = hash32(input.configDigests[path] ?? "")
  return out
}

/** The labels moor puts on a container it creates. */
export const moorLabels = (
  scope: string,
  app: string,
  service: string,
  specHash: string,
  fields: Record<string, string>
): Record<string, string> => ({
  [Label.scope]: scope,
  [Label.app]: app,
  [Label.service]: service,
  [Label.hash]: specHash,
  [Label.hashVersion]: HASH_VERSION,
  [Label.fields]: canonicalJson(fields)
})

export const parseFieldDigests = (label: string | undefined): Record<string, string> | undefined => {
  if (label === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(label)
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined
    return parsed as Record<string, string>
  } catch {
    return undefined
  }
}

/** `moor-fixture/app:1 -> :2` when only the tag differs, else both in full. */
export const describeImageChange = (from: string, to: string): string => {
  const cut = (ref: string) => {
    const at = ref.lastIndexOf(":")
    return at > ref.lastIndexOf("/") ? [ref.slice(0, at), ref.slice(at)] : [ref, ""]
  }
  const [fromRepo] = cut(from)
  const [toRepo, toTag] = cut(to)
  return fromRepo === toRepo && toTag !== "" ? `image ${from} -> ${toTag}` : `image ${from} -> ${to}`
}

/** What changed between the digests on a container and the desired ones, for people. */
export const describeChanges = (
  observedImage: string,
  desiredImage: string,
  before: Record<string, string> | undefined,
  after: Record<string, string>
): Array<string> => {
  if (before === undefined) return ["spec changed"]
  const out: Array<string> = []
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(fieldOrder)
  for (const key of keys) {
    const b = before[key]
    const a = after[key]
    if (a === b) continue
    const [kind, rest] = splitField(key)
    if (kind === "image") out.push(describeImageChange(observedImage, desiredImage))
    else if (kind === "env")
      out.push(`env ${rest} ${a === undefined ? "removed" : b === undefined ? "added" : "changed"}`)
    else if (kind === "file")
      out.push(`file ${rest} ${a === undefined ? "removed" : b === undefined ? "added" : "changed"}`)
    else if (kind === "option")
      out.push(`${rest} ${a === undefined ? "removed" : b === undefined ? "added" : "changed"}`)
    else out.push(`${composeKey[key] ?? key} ${a === undefined ? "removed" : b === undefined ? "added" : "changed"}`)
  }
  return out.length === 0 ? ["spec changed"] : out
}

const splitField = (key: string): [string, string] => {
  const dot = key.indexOf(".")
  return dot === -1 ? [key, ""] : [key.slice(0, dot), key.slice(dot + 1)]
}
const fieldOrder = (a: string, b: string): number => {
  const rank = (k: string) => (k === "image" ? 0 : k.startsWith("env.") ? 2 : k.startsWith("file.") ? 3 : 1)
  return rank(a) - rank(b) || byString(a, b)
}
