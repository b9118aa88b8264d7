/**
 * Typed reads from the positioned YAML tree. Every string is interpolated as it is read, so a key
 * that is refused never needs its variables. Each reader reports a wrong type as a problem at the
 * node's line and column and returns `undefined`.
 */
import { Result } from "effect"
import { interpolate, type Lookup } from "./interpolate.ts"
import { at, type Problems } from "./problems.ts"
import { parseBytes, parseDuration } from "./units.ts"
import type { YEntry, YMap, YNode, YScalar, YSeq } from "./yaml-tree.ts"

export interface Reader {
  readonly problems: Problems
  readonly lookup: Lookup
}

const describe = (node: YNode): string => {
  if (node.kind === "map") return "a mapping"
  if (node.kind === "seq") return "a list"
  const v = node.value
  return v === null ? "nothing (null)" : typeof v === "string" ? `the string "${v}"` : `${typeof v} ${String(v)}`
}

/** The variables a value is interpolated with: its included project's, else the app's. */
export const lookupAt = (r: Reader, node: YNode): Lookup => node.pos.origin?.lookup ?? r.lookup

/** The directory a relative path written at `node` is relative to: its file's, else `fallback` (the app's). */
export const dirAt = (node: YNode, fallback: string): string => node.pos.origin?.dir ?? fallback

export const wrongType = (r: Reader, node: YNode, path: string, expected: string): undefined =>
  r.problems.fail(node.pos, path, `expected ${expected}, got ${describe(node)}`)

/** Interpolates a raw string; reports a missing required variable or a bad `$` at the node. */
export const interpolated = (r: Reader, node: YScalar, path: string, raw: string): string | undefined => {
  const result = interpolate(raw, lookupAt(r, node))
  if (Result.isFailure(result)) return r.problems.fail(node.pos, path, result.failure)
  for (const name of result.success.unset) {
    r.problems.warn(node.pos, path, `variable ${name} is not set; it becomes an empty string`)
  }
  return result.success.value
}

/** A string; numbers are taken as written (`1.10` stays `1.10`). Booleans and null are refused. */
export const text = (r: Reader, node: YNode, path: string): string | undefined => {
  if (node.kind !== "scalar") return wrongType(r, node, path, "a string")
  if (typeof node.value === "string") return interpolated(r, node, path, node.value)
  if (typeof node.value === "number") return node.source ?? String(node.value)
  return wrongType(r, node, path, "a string")
}

/** Like `text`, but booleans become "true"/"false" (labels, environment values). */
export const scalarText = (r: Reader, node: YNode, path: string): string | undefined => {
  if (node.kind === "scalar" && typeof node.value === "boolean") return String(node.value)
  return text(r, node, path)
}

export const bool = (r: Reader, node: YNode, path: string): boolean | undefined => {
  if (node.kind === "scalar" && typeof node.value === "boolean") return node.value
  if (node.kind === "scalar" && typeof node.value === "string") {
    const s = interpolated(r, node, path, node.value)
    if (s === undefined) return undefined
    if (/^true$/i.test(s)) return true
    if (/^false$/i.test(s)) return false
  }
  return wrongType(r, node, path, "true or false")
}

export const number = (r: Reader, node: YNode, path: string): number | undefined => {
  if (node.kind === "scalar" && typeof node.value === "number") return node.value
  if (node.kind === "scalar" && typeof node.value === "string") {
    const s = interpolated(r, node, path, node.value)
    if (s === undefined) return undefined
    if (/^-?(\d+(\.\d*)?|\.\d+)$/.test(s.trim())) return Number(s)
  }
  return wrongType(r, node, path, "a number")
}

export const int = (r: Reader, node: YNode, path: string): number | undefined => {
  const n = number(r, node, path)
  if (n === undefined) return undefined
  if (!Number.isInteger(n)) return wrongType(r, node, path, "a whole number")
  return n
}

export const duration = (r: Reader, node: YNode, path: string): number | undefined => {
  if (node.kind === "scalar" && node.value === 0) return 0
  if (node.kind === "scalar" && typeof node.value === "number") {
    return r.problems.fail(node.pos, path, `${node.value} has no unit: write a duration such as "${node.value}s"`)
  }
  const s = text(r, node, path)
  if (s === undefined) return undefined
  const ms = parseDuration(s)
  return Result.isFailure(ms) ? r.problems.fail(node.pos, path, ms.failure) : ms.success
}

export const bytes = (r: Reader, node: YNode, path: string): number | undefined => {
  if (node.kind === "scalar" && typeof node.value === "number") {
    const b = parseBytes(node.value)
    return Result.isFailure(b) ? r.problems.fail(node.pos, path, b.failure) : b.success
  }
  const s = text(r, node, path)
  if (s === undefined) return undefined
  const b = parseBytes(s)
  return Result.isFailure(b) ? r.problems.fail(node.pos, path, b.failure) : b.success
}

export const map = (r: Reader, node: YNode, path: string): YMap | undefined =>
  node.kind === "map" ? node : wrongType(r, node, path, "a mapping")

export const seq = (r: Reader, node: YNode, path: string): YSeq | undefined =>
  node.kind === "seq" ? node : wrongType(r, node, path, "a list")

export const isNull = (node: YNode): boolean => node.kind === "scalar" && node.value === null

/** A list of strings (numbers taken as written). */
export const strings = (r: Reader, node: YNode, path: string): Array<string> | undefined => {
  const list = seq(r, node, path)
  if (list === undefined) return undefined
  const out: Array<string> = []
  let ok = true
  list.items.forEach((item, i) => {
    const s = text(r, item, at(path, i))
    if (s === undefined) ok = false
    else out.push(s)
  })
  return ok ? out : undefined
}

/** A string or a list of strings, as a list. */
export const stringOrList = (r: Reader, node: YNode, path: string): Array<string> | undefined => {
  if (node.kind === "scalar") {
    const s = text(r, node, path)
    return s === undefined ? undefined : [s]
  }
  if (node.kind === "seq") return strings(r, node, path)
  return wrongType(r, node, path, "a string or a list of strings")
}

export interface KeyValue {
  readonly key: string
  /** `null` for a key without a value (`- A` in a list, `A:` or `A: null` in a mapping). */
  readonly value: string | null
  readonly node: YNode
  readonly path: string
}

/**
 * Compose's "list or dict": `["A=b", "C"]` or `{ A: b, C: null }`. A key given twice in a list is an
 * error, or with `duplicates: "last"` the last entry wins with a warning, as Compose's unicity rule
 * does for environment and labels. `seps` are the list separators (`=` for environment and labels,
 * `:` or `=` for extra_hosts).
 */
export const listOrDict = (
  r: Reader,
  node: YNode,
  path: string,
  seps = "=",
  duplicates: "refuse" | "last" = "refuse"
): Array<KeyValue> | undefined => {
  const out: Array<KeyValue> = []
  const seen = new Map<string, number>()
  let ok = true
  const add = (kv: KeyValue) => {
    const earlier = seen.get(kv.key)
    if (earlier !== undefined && duplicates === "last") {
      const line = out[earlier]?.node.pos.line
      r.problems.warn(kv.node.pos, kv.path, `${kv.key} is given twice (also on line ${line}): the last one is used`)
      out[earlier] = kv
      return
    }
    if (earlier !== undefined) {
      ok = false
      r.problems.fail(kv.node.pos, kv.path, `${kv.key} is given twice: keep one`)
      return
    }
    seen.set(kv.key, out.length)
    out.push(kv)
  }
  if (node.kind === "map") {
    for (const e of node.entries) {
      const p = at(path, e.key)
      if (isNull(e.value)) add({ key: e.key, value: null, node: e.value, path: p })
      else {
        const v = scalarText(r, e.value, p)
        if (v === undefined) ok = false
        else add({ key: e.key, value: v, node: e.value, path: p })
      }
    }
    return ok ? out : undefined
  }
  if (node.kind === "seq") {
    node.items.forEach((item, i) => {
      const p = at(path, i)
      const s = text(r, item, p)
      if (s === undefined) {
        ok = false
        return
      }
      let cut = -1
      for (const sep of seps) {
        const k = s.indexOf(sep)
        if (k !== -1 && (cut === -1 || k < cut)) cut = k
      }
      if (cut === 0) {
        ok = false
        r.problems.fail(item.pos, p, `the entry has no name before "${s[0]}": write NAME${s[0]}value`)
        return
      }
      add(
        cut === -1
          ? { key: s, value: null, node: item, path: p }
          : { key: s.slice(0, cut), value: s.slice(cut + 1), node: item, path: p }
      )
    })
    return ok ? out : undefined
  }
  return wrongType(r, node, path, "a list or a mapping")
}

export interface KeyRules {
  /** Handlers for the keys moor reads. */
  readonly read: Readonly<Record<string, (entry: YEntry, path: string) => void>>
  /** Keys Compose defines that moor refuses, with a hint when there is one. */
  readonly unsupported?: Readonly<Record<string, string>>
  /** Prefix for the key name in "does not support" messages, e.g. `deploy.` */
  readonly prefix?: string
  /** Keys starting with `x-` are extensions, ignored unless `read` has them. */
  readonly extensions?: boolean
}

const SUPPORT_DOC = "see docs/compose-support.md"

/**
 * Runs the handler of each key; refuses unsupported keys with a hint and unknown keys with a
 * suggestion. Handlers run in the file's order; callers build outputs with sorted keys.
 */
export const readKeys = (r: Reader, node: YMap, path: string, rules: KeyRules): void => {
  for (const entry of node.entries) {
    const p = at(path, entry.key)
    const handler = Object.hasOwn(rules.read, entry.key) ? rules.read[entry.key] : undefined
    if (handler !== undefined) {
      handler(entry, p)
      continue
    }
    if (rules.extensions !== false && entry.key.startsWith("x-")) continue
    const name = `${rules.prefix ?? ""}${entry.key}`
    if (rules.unsupported !== undefined && Object.hasOwn(rules.unsupported, entry.key)) {
      const hint = rules.unsupported[entry.key] ?? ""
      r.problems.fail(
        entry.keyPos,
        p,
        `moor does not support "${name}"${hint === "" ? "" : `: ${hint}`} (${SUPPORT_DOC})`
      )
      continue
    }
    const known = [...Object.keys(rules.read), ...Object.keys(rules.unsupported ?? {})]
    const guess = closest(entry.key, known)
    r.problems.fail(
      entry.keyPos,
      p,
      `unknown key "${name}"${guess === undefined ? "" : ` (did you mean "${rules.prefix ?? ""}${guess}"?)`}`
    )
  }
}

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length] as number
}

const closest = (key: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestD = 3
  for (const k of known) {
    const d = distance(key, k)
    if (d < bestD) {
      best = k
      bestD = d
    }
  }
  return best
}

/** An object with sorted keys, so the output does not depend on the file's key order. */
export const sorted = <A>(entries: Iterable<readonly [string, A]>): Record<string, A> => {
  const list = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const out: Record<string, A> = {}
  for (const [k, v] of list) out[k] = v
  return out
}

/** A file mode in octal, as Compose documents it (`0755`, `755`, `"0o1777"`), at most 07777. */
export const fileMode = (r: Reader, node: YNode, path: string): number | undefined => {
  const s = text(r, node, path)
  if (s === undefined) return undefined
  const m = /^(?:0o)?([0-7]{1,5})$/i.exec(s.trim())
  const mode = m?.[1] === undefined ? undefined : Number.parseInt(m[1], 8)
  if (mode === undefined || mode > 0o7777)
    return r.problems.fail(node.pos, path, `"${s}" is not a file mode: write it in octal, e.g. 0755 or 1777`)
  return mode
}
