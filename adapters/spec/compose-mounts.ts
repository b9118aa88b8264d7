/**
 * `volumes:` of a service, short (`data:/data:ro`, `./conf:/etc/app`, `/cache`) and long syntax,
 * to the model's `Mount`s. Named volumes must be declared in the app's top-level `volumes`; relative
 * bind paths resolve against the app's directory.
 */
import * as nodePath from "node:path"
import type { Mount } from "../../core/model/desired.ts"
import { at } from "./problems.ts"
import { bool, type Reader, readKeys, text, wrongType } from "./reader.ts"
import type { YNode } from "./yaml-tree.ts"

export interface MountContext {
  /** The app's directory, absolute. */
  readonly appDir: string
  readonly home: string | undefined
  readonly declaredVolumes: ReadonlySet<string>
}

const isPathLike = (s: string): boolean => s.startsWith("/") || s.startsWith(".") || s.startsWith("~")

/** A bind source to an absolute host path, or a sentence saying why it cannot be. */
const bindSource = (source: string, ctx: MountContext): string | { readonly error: string } => {
  if (source === "~" || source.startsWith("~/")) {
    if (ctx.home === undefined) return { error: `"${source}" uses ~ but HOME is not set` }
    return nodePath.join(ctx.home, source.slice(1))
  }
  if (source.startsWith("~")) return { error: `"${source}": ~user paths are not supported; write the absolute path` }
  return nodePath.resolve(ctx.appDir, source)
}

const checkTarget = (r: Reader, node: YNode, path: string, target: string): boolean => {
  if (target.startsWith("/")) return true
  r.problems.fail(node.pos, path, `the mount target "${target}" must be an absolute path in the container`)
  return false
}

const checkVolume = (r: Reader, node: YNode, path: string, name: string, ctx: MountContext): boolean => {
  if (ctx.declaredVolumes.has(name)) return true
  const declared = [...ctx.declaredVolumes].sort()
  r.problems.fail(
    node.pos,
    path,
    `volume "${name}" is not declared in the top-level volumes${declared.length === 0 ? "" : ` (declared: ${declared.join(", ")})`}; add "volumes: { ${name}: {} }" at the top level`
  )
  return false
}

const shortMount = (r: Reader, node: YNode, path: string, spec: string, ctx: MountContext): Mount | undefined => {
  const parts = spec.split(":")
  if (parts.length === 1) {
    return checkTarget(r, node, path, spec) ? { type: "volume", target: spec } : undefined
  }
  if (parts.length > 3) return r.problems.fail(node.pos, path, `"${spec}" is not SOURCE:TARGET[:MODE]`)
  const [source = "", target = "", mode] = parts
  if (!checkTarget(r, node, path, target)) return undefined
  let readOnly = false
  for (const option of (mode ?? "").split(",").filter((o) => o !== "")) {
    if (option === "ro") readOnly = true
    else if (option !== "rw") {
      return r.problems.fail(node.pos, path, `volume option "${option}" is not supported (only ro and rw)`)
    }
  }
  const ro = readOnly ? { readOnly: true } : {}
  if (isPathLike(source)) {
    const abs = bindSource(source, ctx)
    if (typeof abs !== "string") return r.problems.fail(node.pos, path, abs.error)
    return { type: "bind", source: abs, target, ...ro }
  }
  if (source === "") return r.problems.fail(node.pos, path, `"${spec}" has an empty source`)
  if (!checkVolume(r, node, path, source, ctx)) return undefined
  return { type: "volume", source, target, ...ro }
}

const longMount = (r: Reader, node: YNode, path: string, ctx: MountContext): Mount | undefined => {
  if (node.kind !== "map") return wrongType(r, node, path, "a mount")
  let type: string | undefined
  let source: string | undefined
  let target: string | undefined
  let readOnly: boolean | undefined
  const before = r.problems.errors.length
  readKeys(r, node, path, {
    prefix: "volumes.",
    read: {
      type: (e, p) => {
        type = text(r, e.value, p)
        if (type !== undefined && !["volume", "bind", "tmpfs"].includes(type)) {
          r.problems.fail(e.value.pos, p, `mount type "${type}" is not supported (volume, bind or tmpfs)`)
        }
      },
      source: (e, p) => {
        source = text(r, e.value, p)
      },
      target: (e, p) => {
        target = text(r, e.value, p)
      },
      read_only: (e, p) => {
        readOnly = bool(r, e.value, p)
      }
    },
    unsupported: { bind: "", volume: "", tmpfs: "", image: "", consistency: "" }
  })
  if (r.problems.errors.length > before) return undefined
  if (type === undefined)
    return r.problems.fail(node.pos, path, "a long-syntax mount needs a type (volume, bind or tmpfs)")
  if (target === undefined) return r.problems.fail(node.pos, path, "a mount needs a target")
  if (!checkTarget(r, node, path, target)) return undefined
  const ro = readOnly === true ? { readOnly: true } : {}
  if (type === "tmpfs") {
    if (source !== undefined) return r.problems.fail(node.pos, path, "a tmpfs mount has no source")
    return { type: "tmpfs", target, ...ro }
  }
  if (type === "bind") {
    if (source === undefined || source === "")
      return r.problems.fail(node.pos, path, "a bind mount needs a source path")
    const abs = bindSource(source, ctx)
    if (typeof abs !== "string") return r.problems.fail(node.pos, path, abs.error)
    return { type: "bind", source: abs, target, ...ro }
  }
  if (source === undefined || source === "") return { type: "volume", target, ...ro }
  if (!checkVolume(r, node, path, source, ctx)) return undefined
  return { type: "volume", source, target, ...ro }
}

export const readMounts = (r: Reader, node: YNode, path: string, ctx: MountContext): Array<Mount> | undefined => {
  if (node.kind !== "seq") return wrongType(r, node, path, "a list of volumes")
  const out: Array<Mount> = []
  let ok = true
  node.items.forEach((item, i) => {
    const p = at(path, i)
    let mount: Mount | undefined
    if (item.kind === "map") mount = longMount(r, item, p, ctx)
    else {
      const s = text(r, item, p)
      mount = s === undefined ? undefined : shortMount(r, item, p, s, ctx)
    }
    if (mount === undefined) ok = false
    else out.push(mount)
  })
  if (!ok) return undefined
  const targets = new Set<string>()
  for (const [i, m] of out.entries()) {
    if (targets.has(m.target)) {
      return r.problems.fail(
        node.kind === "seq" ? node.items[i]?.pos : undefined,
        at(path, i),
        `${m.target} is mounted twice`
      )
    }
    targets.add(m.target)
  }
  return out
}
