/**
 * A service's engine settings (`ContainerOptions`) as its container gets them: references to other
 * services resolved to container names, orderless lists sorted and de-duplicated, maps sorted, and
 * the values that mean "not set" dropped, so neither key order nor spelling out a default changes the
 * spec hash. Fields come out in the schema's order, absent ones left out.
 */
import { canonicalJson, hash32 } from "./hash.ts"
import type { App } from "./model/desired.ts"
import type { ContainerOptions, DeviceMapping, DeviceRequest } from "./model/options.ts"
import { serviceContainerName } from "./names.ts"

type Field = keyof ContainerOptions
type Canonical = (value: never, app: App) => unknown

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const nonEmpty = <A>(xs: ReadonlyArray<A>): ReadonlyArray<A> | undefined => (xs.length === 0 ? undefined : xs)
const sortedUnique = (xs: ReadonlyArray<string>): ReadonlyArray<string> | undefined =>
  nonEmpty([...new Set(xs)].sort(byString))
const unique = (xs: ReadonlyArray<string>): ReadonlyArray<string> | undefined => nonEmpty([...new Set(xs)])
const sortedMap = <A>(m: Readonly<Record<string, A>>): Record<string, A> | undefined => {
  const keys = Object.keys(m).sort(byString)
  if (keys.length === 0) return undefined
  const out: Record<string, A> = {}
  for (const k of keys) out[k] = m[k] as A
  return out
}
const text = (s: string): string | undefined => (s === "" ? undefined : s)
const setOnly = (b: boolean): true | undefined => (b ? true : undefined)
const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n)
const byJson = <A>(xs: ReadonlyArray<A>): ReadonlyArray<A> | undefined => {
  const seen = new Map<string, A>()
  for (const x of xs) seen.set(canonicalJson(x), x)
  return nonEmpty([...seen.keys()].sort(byString).map((k) => seen.get(k) as A))
}
/** Drops `undefined` members, keeping the order the object was built in. */
const compact = <A>(o: object): A | undefined => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return Object.keys(out).length === 0 ? undefined : (out as A)
}

const SERVICE = "service:"
const CONTAINER = "container:"
/** `service:NAME` -> `container:<its container>`; other modes as they are. */
const namespace = (mode: string, app: App): string | undefined =>
  mode.startsWith(SERVICE) ? `${CONTAINER}${serviceContainerName(app, mode.slice(SERVICE.length))}` : text(mode)
/** `NAME` or `NAME:ALIAS` -> `TARGET:ALIAS`, the alias defaulting to the name. */
const link = (entry: string, target: (name: string) => string): string => {
  const cut = entry.indexOf(":")
  const name = cut === -1 ? entry : entry.slice(0, cut)
  return `${target(name)}:${cut === -1 ? name : entry.slice(cut + 1)}`
}
/** `SERVICE[:MODE]` or `container:NAME[:MODE]` -> `CONTAINER[:ro]` (`rw` is the default). */
const volumesFrom = (entry: string, app: App): string => {
  const fromContainer = entry.startsWith(CONTAINER)
  const rest = fromContainer ? entry.slice(CONTAINER.length) : entry
  const cut = rest.lastIndexOf(":")
  const [name, mode] = cut === -1 ? [rest, "rw"] : [rest.slice(0, cut), rest.slice(cut + 1)]
  const container = fromContainer ? name : serviceContainerName(app, name)
  return mode === "rw" ? container : `${container}:${mode}`
}
const deviceRequest = (d: DeviceRequest): DeviceRequest | undefined =>
  compact<DeviceRequest>({
    driver: d.driver === undefined ? undefined : text(d.driver),
    // Compose: a request naming neither a count nor devices asks for all of them.
    count: d.count ?? (d.deviceIds === undefined || d.deviceIds.length === 0 ? -1 : undefined),
    deviceIds: d.deviceIds === undefined ? undefined : sortedUnique(d.deviceIds),
    capabilities: d.capabilities === undefined ? undefined : sortedUnique(d.capabilities),
    options: d.options === undefined ? undefined : sortedMap(d.options)
  })
const deviceRequests = (xs: ReadonlyArray<DeviceRequest>) =>
  byJson(xs.map(deviceRequest).filter((d) => d !== undefined))
const byPath = <A extends { readonly path: string }>(xs: ReadonlyArray<A> | undefined) =>
  xs === undefined ? undefined : byJson([...xs].sort((a, b) => byString(a.path, b.path)))

/**
 * Every option: its Compose key (for people: `sysctls changed`) and its canonical form. The order of
 * this table is the order of the fields in the config, and so part of the spec hash.
 */
const FIELDS: ReadonlyArray<readonly [Field, string, Canonical]> = [
  ["expose", "expose", (v: ReadonlyArray<string>) => sortedUnique(v.map((p) => (p.includes("/") ? p : `${p}/tcp`)))],
  [
    "links",
    "links",
    (v: ReadonlyArray<string>, app) => sortedUnique(v.map((l) => link(l, (s) => serviceContainerName(app, s))))
  ],
  ["externalLinks", "external_links", (v: ReadonlyArray<string>) => sortedUnique(v.map((l) => link(l, (c) => c)))],
  ["dns", "dns", unique],
  ["dnsOpt", "dns_opt", sortedUnique],
  ["dnsSearch", "dns_search", unique],
  ["sysctls", "sysctls", sortedMap],
  ["ulimits", "ulimits", sortedMap],
  [
    "logging",
    "logging",
    (v: NonNullable<ContainerOptions["logging"]>) =>
      compact({
        driver: v.driver === undefined ? undefined : text(v.driver),
        options: v.options === undefined ? undefined : sortedMap(v.options)
      })
  ],
  ["securityOpt", "security_opt", sortedUnique],
  ["privileged", "privileged", setOnly],
  [
    "devices",
    "devices",
    (v: ReadonlyArray<DeviceMapping>) => {
      const byTarget = new Map<string, DeviceMapping>()
      for (const d of v) byTarget.set(d.target, d)
      return nonEmpty([...byTarget.keys()].sort(byString).map((t) => byTarget.get(t) as DeviceMapping))
    }
  ],
  ["deviceCgroupRules", "device_cgroup_rules", sortedUnique],
  ["groupAdd", "group_add", sortedUnique],
  ["ipc", "ipc", namespace],
  ["pid", "pid", namespace],
  ["uts", "uts", text],
  ["usernsMode", "userns_mode", text],
  ["cgroup", "cgroup", text],
  ["cgroupParent", "cgroup_parent", text],
  ["shmSize", "shm_size", nonZero],
  ["tty", "tty", setOnly],
  ["stdinOpen", "stdin_open", setOnly],
  ["macAddress", "mac_address", (v: string) => text(v.toLowerCase())],
  ["domainname", "domainname", text],
  ["platform", "platform", (v: string) => text(v.toLowerCase())],
  ["runtime", "runtime", text],
  ["isolation", "isolation", (v: string) => (v === "default" ? undefined : text(v))],
  ["storageOpt", "storage_opt", sortedMap],
  ["oomKillDisable", "oom_kill_disable", setOnly],
  ["oomScoreAdj", "oom_score_adj", nonZero],
  ["memSwappiness", "mem_swappiness", (v: number) => v],
  ["memswapLimit", "memswap_limit", nonZero],
  ["cpuCount", "cpu_count", nonZero],
  ["cpuPercent", "cpu_percent", nonZero],
  ["cpuShares", "cpu_shares", nonZero],
  ["cpuQuota", "cpu_quota", nonZero],
  ["cpuPeriod", "cpu_period", nonZero],
  ["cpuRtPeriod", "cpu_rt_period", nonZero],
  ["cpuRtRuntime", "cpu_rt_runtime", nonZero],
  ["cpuset", "cpuset", text],
  [
    "blkioConfig",
    "blkio_config",
    (v: NonNullable<ContainerOptions["blkioConfig"]>) =>
      compact({
        weight: v.weight === undefined ? undefined : nonZero(v.weight),
        weightDevice: byPath(v.weightDevice),
        deviceReadBps: byPath(v.deviceReadBps),
        deviceReadIops: byPath(v.deviceReadIops),
        deviceWriteBps: byPath(v.deviceWriteBps),
        deviceWriteIops: byPath(v.deviceWriteIops)
      })
  ],
  ["gpus", "gpus", deviceRequests],
  ["reservedDevices", "deploy.resources.reservations.devices", deviceRequests],
  ["annotations", "annotations", sortedMap],
  ["volumesFrom", "volumes_from", (v: ReadonlyArray<string>, app) => unique(v.map((e) => volumesFrom(e, app)))],
  [
    "credentialSpec",
    "credential_spec",
    (v: NonNullable<ContainerOptions["credentialSpec"]>) => compact({ file: v.file, registry: v.registry })
  ],
  ["useApiSocket", "use_api_socket", setOnly]
]

/** The Compose key of each option field. */
export const OPTION_KEYS: Readonly<Record<Field, string>> = Object.fromEntries(
  FIELDS.map(([field, key]) => [field, key])
) as Record<Field, string>

/**
 * The Engine API version an option needs when it is more than 1.41 (Docker 20.10); keyed by Compose
 * key. Older engines ignore these fields without a word, so a plan for such an engine must refuse them.
 */
export const OPTION_MIN_API: Readonly<Record<string, string>> = {
  annotations: "1.43"
}

/**
 * The options of a service of `app` as its container gets them: canonical, resolved, undefined when
 * nothing is left (a service without options has a config without the key).
 */
export const containerOptions = (app: App, options: ContainerOptions | undefined): ContainerOptions | undefined => {
  if (options === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const [field, , canonical] of FIELDS) {
    const value = options[field]
    if (value === undefined) continue
    const c = canonical(value as never, app)
    if (c !== undefined) out[field] = c
  }
  return Object.keys(out).length === 0 ? undefined : (out as ContainerOptions)
}

/** One short digest per option set, keyed `option.<compose key>`: what `describeChanges` names. */
export const optionDigests = (options: ContainerOptions | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (options === undefined) return out
  for (const [field, key] of FIELDS) {
    const value = options[field]
    if (value !== undefined) out[`option.${key}`] = hash32(JSON.stringify(value))
  }
  return out
}

/** The services of the app that a service's options name: `[compose key, service]` pairs. */
export const optionServiceRefs = (options: ContainerOptions | undefined): Array<readonly [string, string]> => {
  if (options === undefined) return []
  const out: Array<readonly [string, string]> = []
  for (const l of options.links ?? []) out.push(["links", l.split(":")[0] ?? ""])
  for (const v of options.volumesFrom ?? [])
    if (!v.startsWith(CONTAINER)) out.push(["volumes_from", v.replace(/:(ro|rw)$/, "")])
  for (const key of ["ipc", "pid"] as const) {
    const mode = options[key]
    if (mode?.startsWith(SERVICE) === true) out.push([key, mode.slice(SERVICE.length)])
  }
  return out
}
