/**
 * Compose's merge rules on positioned trees, for override files, `extends` and `include`: mappings
 * merge key by key, lists append, scalars are replaced; some keys have rules of their own (a command
 * is replaced, environment and labels merge by name, ports and volumes by what they bind, depends_on
 * and networks as mappings); `!reset` removes what the base set and `!override` replaces it whole.
 * The rules are compose-go's (override/merge.go, override/uncity.go), so a file means here what it
 * means to Compose.
 */
import type { YEntry, YMap, YNode, YScalar, YSeq } from "./yaml-tree.ts"

type Path = ReadonlyArray<string>

const split = new Map<string, ReadonlyArray<string>>()
const matches = (path: Path, pattern: string): boolean => {
  let parts = split.get(pattern)
  if (parts === undefined) {
    parts = pattern.split(".")
    split.set(pattern, parts)
  }
  if (parts.length !== path.length) return false
  for (let i = 0; i < parts.length; i++) if (parts[i] !== "*" && parts[i] !== path[i]) return false
  return true
}

/** Replaced whole, never merged. */
const REPLACED = ["services.*.command", "services.*.entrypoint", "services.*.healthcheck.test"]
/** Lists or mappings of `KEY=VALUE`, merged as lists, the later value of a key winning. */
const KEY_VALUES = [
  "services.*.environment",
  "services.*.labels",
  "services.*.annotations",
  "services.*.sysctls",
  "services.*.build.args",
  "services.*.build.labels",
  "services.*.deploy.labels",
  "networks.*.labels",
  "volumes.*.labels"
]
/** Lists appended, an item the base has already left out. */
const APPENDED_UNIQUE = [
  "services.*.extra_hosts",
  "services.*.build.extra_hosts",
  "services.*.dns",
  "services.*.dns_opt",
  "services.*.dns_search",
  "services.*.env_file",
  "services.*.label_file",
  "services.*.tmpfs",
  "services.*.cap_add",
  "services.*.cap_drop",
  "services.*.profiles",
  "services.*.links",
  "services.*.expose",
  "services.*.networks.*.aliases"
]
/** Lists of mounts or ports: an item replaces the base's item for the same target. */
const KEYED_LISTS: ReadonlyArray<readonly [string, (n: YNode) => string]> = [
  ["services.*.volumes", (n) => mountTarget(n)],
  ["services.*.devices", (n) => deviceTarget(n)],
  ["services.*.secrets", (n) => secretTarget(n, "/run/secrets")],
  ["services.*.configs", (n) => secretTarget(n, "")],
  ["services.*.ports", (n) => portKey(n)]
]
/** A list of names or a mapping: merged as mappings. */
const AS_MAPPINGS = ["services.*.depends_on", "services.*.networks"]

const scalarText = (n: YNode): string | undefined =>
  n.kind === "scalar" && n.value !== null ? (n.source ?? String(n.value)) : undefined

const field = (n: YNode, key: string): string | undefined =>
  n.kind === "map" ? scalarText(n.entries.find((e) => e.key === key)?.value ?? NULL) : undefined

const NULL: YScalar = { kind: "scalar", value: null, source: undefined, pos: { line: 0, column: 0 } }

/** `./a:/b:ro` -> `/b`; `{ target: /b }` -> `/b`. A Windows drive letter is not a separator. */
const mountTarget = (n: YNode): string => {
  const t = field(n, "target")
  if (t !== undefined) return t
  const s = scalarText(n) ?? ""
  const parts = s.split(":")
  if (parts.length === 1) return s
  if (/^[a-zA-Z]$/.test(parts[0] ?? "")) parts.splice(0, 2, `${parts[0]}:${parts[1]}`)
  return parts[1] ?? s
}
const deviceTarget = (n: YNode): string => {
  const t = field(n, "target")
  if (t !== undefined) return t
  const parts = (scalarText(n) ?? "").split(":")
  return parts.length === 1 ? (parts[0] ?? "") : (parts[1] ?? "")
}
const secretTarget = (n: YNode, dir: string): string => {
  const t = field(n, "target")
  if (t !== undefined) return t
  return `${dir}/${field(n, "source") ?? scalarText(n) ?? ""}`
}
const portKey = (n: YNode): string => {
  if (n.kind !== "map") return scalarText(n) ?? ""
  return `${field(n, "host_ip") ?? "0.0.0.0"}:${field(n, "published") ?? ""}:${field(n, "target") ?? ""}/${field(n, "protocol") ?? "tcp"}`
}
/** `A=1` -> `A`. */
const nameOf = (n: YNode): string => {
  const s = scalarText(n) ?? ""
  const eq = s.indexOf("=")
  return eq === -1 ? s : s.slice(0, eq)
}

/** A mapping in list form (`{ A: 1, B: null }` -> `["A=1", "B"]`), keeping each value's position. */
const toKeyValueList = (n: YNode): ReadonlyArray<YNode> => {
  if (n.kind === "seq") return n.items
  if (n.kind === "scalar") return n.value === null ? [] : [n]
  return n.entries.flatMap((e): Array<YNode> => {
    if (e.value.kind === "scalar" && e.value.value === null)
      return [{ kind: "scalar", value: e.key, source: undefined, pos: e.keyPos }]
    const values = e.value.kind === "seq" ? e.value.items : [e.value]
    return values.map((v) => ({
      kind: "scalar",
      value: `${e.key}=${scalarText(v) ?? ""}`,
      source: undefined,
      pos: v.pos
    }))
  })
}

/** A list of names as a mapping (`[db]` -> `{ db: <default> }`). */
const toMapping = (n: YNode, defaultValue: (pos: YNode["pos"]) => YNode): YMap => {
  if (n.kind === "map") return n
  if (n.kind === "seq")
    return {
      kind: "map",
      pos: n.pos,
      entries: n.items.map((item) => ({ key: scalarText(item) ?? "", keyPos: item.pos, value: defaultValue(item.pos) }))
    }
  return { kind: "map", pos: n.pos, entries: [] }
}

const dependsOnDefault = (pos: YNode["pos"]): YNode => ({
  kind: "map",
  pos,
  entries: [
    { key: "condition", keyPos: pos, value: { kind: "scalar", value: "service_started", source: undefined, pos } },
    { key: "required", keyPos: pos, value: { kind: "scalar", value: true, source: undefined, pos } }
  ]
})
const nullAt = (pos: YNode["pos"]): YNode => ({ kind: "scalar", value: null, source: undefined, pos })

/** Appends, an item with the key of an earlier one replacing it in place (compose-go's unicity rule). */
const uniqueBy = (items: ReadonlyArray<YNode>, keyOf: (n: YNode) => string, pos: YNode["pos"]): YSeq => {
  const out: Array<YNode> = []
  const index = new Map<string, number>()
  for (const item of items) {
    const key = keyOf(item)
    const at = index.get(key)
    if (at === undefined) {
      index.set(key, out.length)
      out.push(item)
    } else out[at] = item
  }
  return { kind: "seq", items: out, pos }
}

const plain = (n: YNode): YNode => {
  if (n.tag === undefined) return n
  const { tag: _, ...rest } = n
  return rest as YNode
}

/** `base` with `over` merged on top of it, at `path` (keys from the root). */
export const mergeNodes = (base: YNode, over: YNode, path: Path): YNode => {
  if (over.tag === "override") return strip(over)
  if (REPLACED.some((p) => matches(path, p))) return strip(over)
  if (KEY_VALUES.some((p) => matches(path, p))) {
    // `A: !reset null` in the mapping form removes A from the base.
    const reset = new Set(
      over.kind === "map" ? over.entries.filter((e) => e.value.tag === "reset").map((e) => e.key) : []
    )
    const kept = toKeyValueList(base).filter((n) => !reset.has(nameOf(n)))
    return uniqueBy([...kept, ...toKeyValueList(strip(over))], nameOf, over.pos)
  }
  if (APPENDED_UNIQUE.some((p) => matches(path, p))) {
    const list = (n: YNode) => (n.kind === "seq" ? n.items : n.kind === "scalar" && n.value !== null ? [n] : [])
    return uniqueBy([...list(base), ...list(strip(over))], (n) => scalarText(n) ?? "", over.pos)
  }
  const keyed = KEYED_LISTS.find(([p]) => matches(path, p))
  if (keyed !== undefined && base.kind === "seq" && over.kind === "seq")
    return uniqueBy([...base.items, ...(strip(over) as YSeq).items], keyed[1], over.pos)
  if (AS_MAPPINGS.some((p) => matches(path, p))) {
    const dflt = path[path.length - 1] === "depends_on" ? dependsOnDefault : nullAt
    return mergeMaps(toMapping(base, dflt), toMapping(over, dflt), path)
  }
  if (matches(path, "services.*.build")) {
    const asMap = (n: YNode): YNode =>
      n.kind === "scalar" ? { kind: "map", pos: n.pos, entries: [{ key: "context", keyPos: n.pos, value: n }] } : n
    const [a, b] = [asMap(base), asMap(over)]
    if (a.kind === "map" && b.kind === "map") return mergeMaps(a, b, path)
  }
  if (matches(path, "services.*.logging") && base.kind === "map" && over.kind === "map") {
    const a = field(base, "driver")
    const b = field(over, "driver")
    if (a !== undefined && b !== undefined && a !== b) return strip(over)
  }
  if (matches(path, "services.*.ulimits.*")) return strip(over)
  if (base.kind === "map" && over.kind === "map") return mergeMaps(base, over, path)
  if (base.kind === "seq" && over.kind === "seq")
    return { kind: "seq", pos: over.pos, items: [...base.items, ...(strip(over) as YSeq).items] }
  return strip(over)
}

export const mergeMaps = (base: YMap, over: YMap, path: Path): YMap => {
  const entries: Array<YEntry> = [...base.entries]
  for (const e of over.entries) {
    const at = entries.findIndex((x) => x.key === e.key)
    if (e.value.tag === "reset") {
      if (at !== -1) entries.splice(at, 1)
      continue
    }
    if (at === -1) entries.push({ ...e, value: strip(e.value) })
    else entries[at] = { ...e, value: mergeNodes(entries[at]!.value, e.value, [...path, e.key]) }
  }
  return { kind: "map", pos: base.pos, entries }
}

/**
 * A tree without its merge tags: `!reset` entries are dropped (in a file merged onto nothing, as in
 * the first file, they reset nothing) and `!override` marks are removed.
 */
export const strip = (n: YNode): YNode => {
  if (n.kind === "map") {
    const entries = n.entries.filter((e) => e.value.tag !== "reset").map((e) => ({ ...e, value: strip(e.value) }))
    return plain({ ...n, entries })
  }
  if (n.kind === "seq") return plain({ ...n, items: n.items.filter((i) => i.tag !== "reset").map(strip) })
  return plain(n)
}
