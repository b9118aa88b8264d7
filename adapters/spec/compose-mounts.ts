/**
 * `volumes:` of a service, short (`data:/data:ro`, `./conf:/etc/app:z,rslave`, `/cache`) and long
 * syntax (with its `bind`, `volume` and `tmpfs` options), to the model's `Mount`s. Named volumes must
 * be declared in the app's top-level `volumes`; relative bind paths resolve against the app's
 * directory. A bind's missing host path is created by the engine unless `create_host_path: false`.
 * Options that do not apply to a mount's type are ignored with a warning, as Compose does.
 */
import * as nodePath from "node:path"
import type { Mount, Propagation } from "../../core/model/desired.ts"
import { at } from "./problems.ts"
import { bool, bytes, dirAt, fileMode, type KeyRules, map, type Reader, readKeys, text, wrongType } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

export interface MountContext {
  /** The app's directory, absolute. */
  readonly appDir: string
  readonly home: string | undefined
  readonly declaredVolumes: ReadonlySet<string>
}

const isPathLike = (s: string): boolean => s.startsWith("/") || s.startsWith(".") || s.startsWith("~")

/**
 * A bind source to an absolute host path, or a sentence saying why it cannot be. A relative path is
 * relative to the directory of the file it is written in (an extended or included file's own).
 */
const bindSource = (source: string, ctx: MountContext, node: YNode): string | { readonly error: string } => {
  if (source === "~" || source.startsWith("~/")) {
    if (ctx.home === undefined) return { error: `"${source}" uses ~ but HOME is not set` }
    return nodePath.join(ctx.home, source.slice(1))
  }
  if (source.startsWith("~")) return { error: `"${source}": ~user paths are not supported; write the absolute path` }
  return nodePath.resolve(dirAt(node, ctx.appDir), source)
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

type MutableMount = { -readonly [K in keyof Mount]: Mount[K] }

const PROPAGATIONS: ReadonlyArray<Propagation> = ["rprivate", "private", "rshared", "shared", "rslave", "slave"]
/** Options Compose accepts that only Docker Desktop's file sharing reads: no effect on an engine. */
const CONSISTENCY = new Set(["cached", "delegated", "consistent"])
const SHORT_OPTIONS = ["ro", "rw", "z", "Z", "nocopy", ...PROPAGATIONS, ...CONSISTENCY].join(", ")

/** The engine relabels (z, Z) only binds it mounts from the `SOURCE:TARGET:OPTIONS` form (see create-body.ts). */
const checkRelabel = (r: Reader, node: YNode, path: string, m: MutableMount): boolean => {
  if (m.selinux === undefined) return true
  if (m.type === "bind" && m.createHostPath === false) {
    r.problems.fail(
      node.pos,
      path,
      `SELinux relabelling (${m.selinux}) of a bind needs create_host_path (the engine relabels only binds it may create): drop create_host_path: false or selinux`
    )
    return false
  }
  return true
}

const shortMount = (r: Reader, node: YNode, path: string, spec: string, ctx: MountContext): Mount | undefined => {
  const parts = spec.split(":")
  if (parts.length === 1) {
    return checkTarget(r, node, path, spec) ? { type: "volume", target: spec } : undefined
  }
  if (parts.length > 3) return r.problems.fail(node.pos, path, `"${spec}" is not SOURCE:TARGET[:MODE]`)
  const [source = "", target = "", mode] = parts
  if (!checkTarget(r, node, path, target)) return undefined
  const bind = isPathLike(source)
  const m: MutableMount = { type: bind ? "bind" : "volume", target }
  // As Compose: the last of contradicting options wins.
  for (const option of (mode ?? "").split(",").filter((o) => o !== "")) {
    if (option === "ro" || option === "rw") m.readOnly = option === "ro"
    else if (option === "z" || option === "Z") m.selinux = option
    else if (option === "nocopy") {
      if (bind) r.problems.warn(node.pos, path, `"nocopy" applies to volumes; it is ignored for a bind mount`)
      else m.noCopy = true
    } else if (PROPAGATIONS.includes(option as Propagation)) {
      if (bind) m.propagation = option as Propagation
      else r.problems.warn(node.pos, path, `propagation "${option}" applies to bind mounts; it is ignored for a volume`)
    } else if (!CONSISTENCY.has(option)) {
      return r.problems.fail(node.pos, path, `volume option "${option}" is not one of ${SHORT_OPTIONS}`)
    }
  }
  if (m.readOnly !== true) delete m.readOnly
  if (bind) {
    const abs = bindSource(source, ctx, node)
    if (typeof abs !== "string") return r.problems.fail(node.pos, path, abs.error)
    return { ...m, source: abs }
  }
  if (source === "") return r.problems.fail(node.pos, path, `"${spec}" has an empty source`)
  if (!checkVolume(r, node, path, source, ctx)) return undefined
  return { ...m, source }
}

type MountType = Mount["type"]

/** The `bind`, `volume` and `tmpfs` sub-keys of a long-syntax mount, into `m`. */
const readOptions = (r: Reader, e: YEntry, path: string, of: MountType, type: string | undefined, m: MutableMount) => {
  const options = map(r, e.value, path)
  if (options === undefined) return
  if (type !== undefined && type !== of) {
    r.problems.warn(e.keyPos, path, `${of} options apply to a mount of type ${of}; they are ignored for type ${type}`)
    return
  }
  const set =
    <K extends keyof MutableMount>(key: K, read: (r: Reader, n: YNode, p: string) => MutableMount[K] | undefined) =>
    (entry: YEntry, p: string) => {
      const v = read(r, entry.value, p)
      if (v !== undefined) m[key] = v
    }
  const rules: Record<MountType, KeyRules> = {
    bind: {
      prefix: "volumes.bind.",
      read: {
        create_host_path: set("createHostPath", bool),
        propagation: set("propagation", (rr, n, p) => oneOf(rr, n, p, PROPAGATIONS, "propagation")),
        selinux: set("selinux", (rr, n, p) => oneOf(rr, n, p, ["z", "Z"] as const, "selinux"))
      },
      unsupported: { recursive: "bind mounts are recursive; remove it" }
    },
    volume: {
      prefix: "volumes.volume.",
      read: {
        nocopy: set("noCopy", bool),
        subpath: set("subpath", text)
      },
      unsupported: { labels: "label the volume in the top-level volumes instead" }
    },
    tmpfs: {
      prefix: "volumes.tmpfs.",
      read: {
        size: set("sizeBytes", (rr, n, p) => {
          const b = bytes(rr, n, p)
          return b === 0 ? undefined : b
        }),
        mode: set("mode", fileMode)
      }
    }
  }
  readKeys(r, options, path, rules[of])
}

const oneOf = <A extends string>(
  r: Reader,
  node: YNode,
  path: string,
  allowed: ReadonlyArray<A>,
  what: string
): A | undefined => {
  const v = text(r, node, path)
  if (v === undefined) return undefined
  const found = allowed.find((a) => a === v)
  return found ?? r.problems.fail(node.pos, path, `${what} "${v}" is not one of ${allowed.join(", ")}`)
}

const longMount = (r: Reader, node: YNode, path: string, ctx: MountContext): Mount | undefined => {
  if (node.kind !== "map") return wrongType(r, node, path, "a mount")
  const typeEntry = node.entries.find((e) => e.key === "type")
  const declaredType =
    typeEntry?.value.kind === "scalar" && typeof typeEntry.value.value === "string" ? typeEntry.value.value : undefined
  let type: string | undefined
  let source: string | undefined
  let target: string | undefined
  const m: MutableMount = { type: "volume", target: "" }
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
        if (bool(r, e.value, p) === true) m.readOnly = true
      },
      // Docker Desktop's file sharing reads it; an engine does not.
      consistency: (e, p) => {
        text(r, e.value, p)
      },
      bind: (e, p) => readOptions(r, e, p, "bind", declaredType, m),
      volume: (e, p) => readOptions(r, e, p, "volume", declaredType, m),
      tmpfs: (e, p) => readOptions(r, e, p, "tmpfs", declaredType, m)
    },
    unsupported: { image: "mount files from an image with a volume the image fills instead" }
  })
  if (r.problems.errors.length > before) return undefined
  if (type === undefined)
    return r.problems.fail(node.pos, path, "a long-syntax mount needs a type (volume, bind or tmpfs)")
  if (target === undefined) return r.problems.fail(node.pos, path, "a mount needs a target")
  if (!checkTarget(r, node, path, target)) return undefined
  const mount: MutableMount = { ...m, type: type as MountType, target }
  if (!checkRelabel(r, node, path, mount)) return undefined
  if (type === "tmpfs") {
    if (source !== undefined) return r.problems.fail(node.pos, path, "a tmpfs mount has no source")
    return mount
  }
  if (type === "bind") {
    if (source === undefined || source === "")
      return r.problems.fail(node.pos, path, "a bind mount needs a source path")
    const abs = bindSource(source, ctx, node)
    if (typeof abs !== "string") return r.problems.fail(node.pos, path, abs.error)
    return { ...mount, source: abs }
  }
  if (source === undefined || source === "") {
    if (mount.selinux !== undefined) return r.problems.fail(node.pos, path, "an anonymous volume cannot be relabelled")
    return mount
  }
  if (!checkVolume(r, node, path, source, ctx)) return undefined
  return { ...mount, source }
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
