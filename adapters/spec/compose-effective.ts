/**
 * What moor understood of an app's Compose files, as Compose again (`moor config`, like `docker compose
 * config`): the override file, extends and include merged, profiles applied, every value interpolated
 * (a `$` left in a value is written `$$`, so the output loads to the same app). Environment values are
 * secret by default: each is shown as a digest unless values may be shown.
 */
import { valueDigest } from "../../core/redact.ts"
import { interpolate, type Lookup } from "./interpolate.ts"
import type { YMap, YNode } from "./yaml-tree.ts"

export interface EffectiveOptions {
  /** Show environment values in clear (a local terminal only: the caller decides). */
  readonly showValues: boolean
}

/** Where values are environment values: `services.*.environment` and hooks' `environment`. */
const isEnvironment = (path: ReadonlyArray<string>): boolean =>
  path.length >= 3 && path[0] === "services" && path[path.length - 1] === "environment"

const escape = (s: string): string => s.replaceAll("$", () => "$$")

/** A scalar as written, interpolated when it is a string (uninterpolatable text is kept as written). */
const scalar = (node: YNode & { readonly kind: "scalar" }, lookup: Lookup): unknown => {
  if (typeof node.value !== "string") return node.value
  const own = node.pos.origin?.lookup ?? lookup
  const result = interpolate(node.value, own)
  return result._tag === "Success" ? escape(result.success.value) : node.value
}

const secret = (value: unknown, options: EffectiveOptions): unknown =>
  options.showValues || value === null || value === undefined ? value : valueDigest(String(value))

const render = (node: YNode, path: ReadonlyArray<string>, lookup: Lookup, options: EffectiveOptions): unknown => {
  if (node.kind === "scalar") return scalar(node, lookup)
  if (node.kind === "seq") {
    if (isEnvironment(path))
      return node.items.map((item) => {
        const text = render(item, path, lookup, options)
        if (typeof text !== "string" || options.showValues) return text
        const eq = text.indexOf("=")
        return eq === -1 ? text : `${text.slice(0, eq)}=${String(secret(text.slice(eq + 1), options))}`
      })
    return node.items.map((item, i) => render(item, [...path, String(i)], lookup, options))
  }
  const out: Record<string, unknown> = {}
  for (const e of node.entries) {
    // Extensions are kept as written: moor does not read them.
    if (e.key.startsWith("x-") && e.key !== "x-moor") {
      out[e.key] = raw(e.value)
      continue
    }
    const value = render(e.value, [...path, e.key], lookup, options)
    out[e.key] = isEnvironment(path) ? secret(value, options) : value
  }
  return out
}

const raw = (node: YNode): unknown =>
  node.kind === "scalar"
    ? node.value
    : node.kind === "seq"
      ? node.items.map(raw)
      : Object.fromEntries(node.entries.map((e) => [e.key, raw(e.value)]))

/** The app's effective Compose model as plain data, ready to print as YAML. */
export const effectiveCompose = (root: YMap, name: string, lookup: Lookup, options: EffectiveOptions): unknown => {
  const out = render(root, [], lookup, options) as Record<string, unknown>
  return { name, ...Object.fromEntries(Object.entries(out).filter(([k]) => k !== "name" && k !== "version")) }
}
