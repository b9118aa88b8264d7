/**
 * An app's `x-moor` block: `version`, `requires` (with `on_start` hooks), and placement by host names
 * (`hosts`) or by host labels (`placement`), resolved here against the declared hosts.
 */
import type { Host } from "../../core/model/desired.ts"
import { NAME } from "./names.ts"
import { at, type Pos } from "./problems.ts"
import { duration, listOrDict, map, type Reader, readKeys, seq, strings, text } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

export interface HookDecl {
  readonly script: string
  readonly service?: string
  readonly timeoutMs?: number
  readonly pos: Pos
  readonly path: string
}
export interface RequireDecl {
  readonly app: string
  readonly pos: Pos
  readonly path: string
  readonly onStart?: HookDecl
}

export interface XMoor {
  readonly version?: string
  readonly hosts?: ReadonlyArray<string>
  readonly requires: ReadonlyArray<RequireDecl>
}

export const readXMoor = (
  r: Reader,
  node: YNode,
  path: string,
  declared: ReadonlyArray<Host>,
  self: string
): XMoor | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  let version: string | undefined
  let hosts: ReadonlyArray<string> | undefined
  let placement: ReadonlyArray<string> | undefined
  let hostsEntry: YEntry | undefined
  let requires: ReadonlyArray<RequireDecl> = []
  readKeys(r, m, path, {
    prefix: "x-moor.",
    read: {
      version: (e, p) => {
        version = text(r, e.value, p)
      },
      hosts: (e, p) => {
        hostsEntry = e
        hosts = placedOn(r, e.value, p, declared)
      },
      placement: (e, p) => {
        placement = byLabels(r, e.value, p, declared)
      },
      requires: (e, p) => {
        requires = readRequires(r, e.value, p, self)
      }
    }
  })
  if (hostsEntry !== undefined && placement !== undefined) {
    r.problems.fail(hostsEntry.keyPos, at(path, "hosts"), "use either x-moor.hosts or x-moor.placement, not both")
  }
  return {
    ...(version === undefined ? {} : { version }),
    ...(hosts !== undefined ? { hosts } : placement !== undefined ? { hosts: placement } : {}),
    requires
  }
}

const declaredList = (declared: ReadonlyArray<Host>): string => declared.map((h) => h.name).join(", ")

const placedOn = (r: Reader, node: YNode, path: string, declared: ReadonlyArray<Host>) => {
  const list = seq(r, node, path)
  const names = list === undefined ? undefined : strings(r, list, path)
  if (list === undefined || names === undefined) return undefined
  if (names.length === 0) return r.problems.fail(node.pos, path, "the list of hosts is empty")
  const known = new Set(declared.map((h) => h.name))
  const out: Array<string> = []
  names.forEach((name, i) => {
    const pos = list.items[i]?.pos
    if (!known.has(name))
      r.problems.fail(
        pos,
        at(path, i),
        `host "${name}" is not declared (hosts: ${declaredList(declared)}): use one of these, or declare it in moor.yaml's hosts`
      )
    else if (out.includes(name)) r.problems.fail(pos, at(path, i), `host "${name}" is listed twice`)
    else out.push(name)
  })
  return out
}

const byLabels = (r: Reader, node: YNode, path: string, declared: ReadonlyArray<Host>) => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  let wanted: Array<readonly [string, string]> | undefined
  let labelsNode: YNode | undefined
  readKeys(r, m, path, {
    prefix: "x-moor.placement.",
    read: {
      labels: (e, p) => {
        labelsNode = e.value
        const kvs = listOrDict(r, e.value, p)
        if (kvs !== undefined) wanted = kvs.map((kv) => [kv.key, kv.value ?? ""] as const)
      }
    }
  })
  if (wanted === undefined) {
    if (labelsNode === undefined) r.problems.fail(node.pos, path, "placement needs labels: { key: value }")
    return undefined
  }
  const matching = declared.filter((h) => wanted?.every(([k, v]) => h.labels?.[k] === v)).map((h) => h.name)
  if (matching.length === 0) {
    const want = wanted.map(([k, v]) => `${k}=${v}`).join(", ")
    return r.problems.fail(
      labelsNode?.pos,
      at(path, "labels"),
      `no declared host has the labels ${want} (hosts: ${declaredList(declared)}): give a host these labels in moor.yaml, or change the placement`
    )
  }
  return matching
}

const readRequires = (r: Reader, node: YNode, path: string, self: string): ReadonlyArray<RequireDecl> => {
  const list = seq(r, node, path)
  if (list === undefined) return []
  const out: Array<RequireDecl> = []
  list.items.forEach((item, i) => {
    const p = at(path, i)
    const decl = readRequire(r, item, p)
    if (decl === undefined) return
    if (decl.app === self)
      r.problems.fail(decl.pos, decl.path, `app ${self} cannot require itself: remove this requirement`)
    else if (out.some((d) => d.app === decl.app))
      r.problems.fail(decl.pos, decl.path, `app ${decl.app} is required twice`)
    else out.push(decl)
  })
  return out
}

const readRequire = (r: Reader, item: YNode, p: string): RequireDecl | undefined => {
  if (item.kind === "scalar") {
    const app = text(r, item, p)
    return app === undefined ? undefined : { app, pos: item.pos, path: p }
  }
  const m = map(r, item, p)
  if (m === undefined) return undefined
  let app: { value: string; pos: Pos; path: string } | undefined
  let onStart: HookDecl | undefined
  readKeys(r, m, p, {
    prefix: "x-moor.requires.",
    read: {
      app: (e, pp) => {
        const v = text(r, e.value, pp)
        if (v === undefined) return
        if (!NAME.test(v)) r.problems.fail(e.value.pos, pp, `"${v}" is not a valid app name`)
        else app = { value: v, pos: e.value.pos, path: pp }
      },
      on_start: (e, pp) => {
        onStart = readHook(r, e.value, pp)
      }
    }
  })
  if (app === undefined) {
    if (!m.entries.some((e) => e.key === "app")) r.problems.fail(item.pos, p, "a requirement needs app: <name>")
    return undefined
  }
  return { app: app.value, pos: app.pos, path: app.path, ...(onStart === undefined ? {} : { onStart }) }
}

const readHook = (r: Reader, node: YNode, path: string): HookDecl | undefined => {
  if (node.kind === "scalar") {
    const script = text(r, node, path)
    return script === undefined ? undefined : { script, pos: node.pos, path }
  }
  const m = map(r, node, path)
  if (m === undefined) return undefined
  let script: { value: string; pos: Pos; path: string } | undefined
  let service: string | undefined
  let timeoutMs: number | undefined
  readKeys(r, m, path, {
    prefix: "on_start.",
    read: {
      script: (e, p) => {
        const v = text(r, e.value, p)
        if (v !== undefined) script = { value: v, pos: e.value.pos, path: p }
      },
      service: (e, p) => {
        service = text(r, e.value, p)
      },
      timeout: (e, p) => {
        timeoutMs = duration(r, e.value, p)
      }
    }
  })
  if (script === undefined) {
    if (!m.entries.some((e) => e.key === "script")) r.problems.fail(node.pos, path, "on_start needs script: <path>")
    return undefined
  }
  return {
    script: script.value,
    pos: script.pos,
    path: script.path,
    ...(service === undefined ? {} : { service }),
    ...(timeoutMs === undefined ? {} : { timeoutMs })
  }
}
