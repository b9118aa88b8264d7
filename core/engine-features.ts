/**
 * What a host's engine can express. Some Compose keys need a newer Docker Engine API than engines
 * people still run (20.10 speaks API 1.41); an older engine ignores a field it does not know, so the
 * container would run without the setting and nobody would be told. The planner asks
 * `engineCannotExpress` before it creates a container, and plans a skip with this message instead.
 *
 * Adding a key is one line in a table keyed by its Compose key path: the oldest API version that
 * can express it, and how to tell a service uses it. Tables of other parts (container options,
 * mount options) plug into `FEATURE_TABLES`.
 */
import { OPTION_KEYS, OPTION_MIN_API } from "./container-options.ts"
import { ENDPOINT_MIN_API, type MinApi, MOUNT_MIN_API } from "./model/min-api.ts"
import type { ContainerConfig } from "./model/plan.ts"

/**
 * A key that needs at least `minApi` (`"1.44"`), and whether a service uses it, read from the
 * container the engine would be asked for (`ContainerConfig`: what reaches the engine).
 */
export interface EngineFeature {
  readonly minApi: string
  readonly uses: (config: ContainerConfig) => boolean
}
/** Compose key path (as written in a service, `healthcheck.start_interval`) -> its feature. */
export type FeatureTable = Readonly<Record<string, EngineFeature>>

const has = (o: object, field: string): boolean => (o as Readonly<Record<string, unknown>>)[field] !== undefined

/** Keys of a service itself. */
export const SERVICE_MIN_API: FeatureTable = {
  "healthcheck.start_interval": { minApi: "1.44", uses: (c) => c.healthcheck?.startIntervalMs !== undefined }
}

/** A table of fields of a list of the container config (mounts, networks) as features, keyed by Compose key. */
const fieldTable = (
  table: Readonly<Record<string, MinApi>>,
  items: (config: ContainerConfig, field: string) => ReadonlyArray<object>
): FeatureTable =>
  Object.fromEntries(
    Object.entries(table).map(([field, m]) => [
      m.compose,
      { minApi: m.api, uses: (c: ContainerConfig) => items(c, field).some((x) => has(x, field)) }
    ])
  )

/** Mount options (`volume.subpath`). */
const MOUNT_FEATURES = fieldTable(MOUNT_MIN_API, (c) => c.mounts)
/** Network attachment options; a MAC address counts only on a network other than the first. */
const ENDPOINT_FEATURES = fieldTable(ENDPOINT_MIN_API, (c, field) =>
  field === "macAddress" ? c.networks.slice(1) : c.networks
)
/** Engine settings (`annotations`). */
const OPTION_FEATURES: FeatureTable = Object.fromEntries(
  Object.entries(OPTION_KEYS)
    .filter(([, key]) => OPTION_MIN_API[key] !== undefined)
    .map(([field, key]) => [
      key,
      { minApi: OPTION_MIN_API[key]!, uses: (c: ContainerConfig) => c.options !== undefined && has(c.options, field) }
    ])
)

/** Every table of keys that need a newer engine. */
export const FEATURE_TABLES: ReadonlyArray<FeatureTable> = [
  SERVICE_MIN_API,
  MOUNT_FEATURES,
  ENDPOINT_FEATURES,
  OPTION_FEATURES
]

/** The first Docker release of each Engine API version, for messages. */
const RELEASES: Readonly<Record<string, string>> = {
  "1.41": "20.10",
  "1.42": "23",
  "1.43": "24",
  "1.44": "25",
  "1.45": "26",
  "1.46": "27",
  "1.47": "27.3",
  "1.48": "28",
  "1.49": "28.1",
  "1.50": "28.2",
  "1.51": "28.3",
  "1.52": "29"
}

/** `"1.44"` -> [1, 44]; anything else: undefined. */
const parseApi = (v: string): readonly [number, number] | undefined => {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim())
  return m === null ? undefined : [Number(m[1]), Number(m[2])]
}

/** Whether an engine speaking API `have` can express what needs `need`. Unknown versions: yes. */
export const apiAtLeast = (have: string, need: string): boolean => {
  const h = parseApi(have)
  const n = parseApi(need)
  if (h === undefined || n === undefined) return true
  return h[0] > n[0] || (h[0] === n[0] && h[1] >= n[1])
}

/** The keys of `tables` a container uses, with the API version each needs, in key order. */
export const usedFeatures = (
  config: ContainerConfig,
  tables: ReadonlyArray<FeatureTable> = FEATURE_TABLES
): Array<{ readonly key: string; readonly minApi: string }> => {
  const out: Array<{ readonly key: string; readonly minApi: string }> = []
  for (const table of tables)
    for (const key of Object.keys(table)) {
      const feature = table[key]!
      if (feature.uses(config)) out.push({ key, minApi: feature.minApi })
    }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** One host's engine, as observed: its release and the API version it speaks, when known. */
export interface HostEngine {
  readonly host: string
  readonly engineVersion?: string | undefined
  readonly apiVersion?: string | undefined
}

const needs = (f: { readonly key: string; readonly minApi: string }): string => {
  const release = RELEASES[f.minApi]
  return `${f.key} needs Docker Engine API ${f.minApi}${release === undefined ? "" : ` (Docker ${release})`} or newer`
}

/**
 * Why the host's engine cannot run the container as specified: each key it uses that needs a newer
 * API, the engine's version, and what to do. Undefined when it can, or when the API version is unknown.
 */
export const engineCannotExpress = (
  config: ContainerConfig,
  engine: HostEngine,
  tables: ReadonlyArray<FeatureTable> = FEATURE_TABLES
): string | undefined => {
  const api = engine.apiVersion
  if (api === undefined) return undefined
  const missing = usedFeatures(config, tables).filter((f) => !apiAtLeast(api, f.minApi))
  if (missing.length === 0) return undefined
  const runs =
    engine.engineVersion === undefined ? `an engine with API ${api}` : `Docker ${engine.engineVersion} (API ${api})`
  return `${missing.map(needs).join(", ")}; host ${engine.host} runs ${runs}: upgrade the engine, or remove ${missing.length === 1 ? "the key" : "these keys"}`
}
