/**
 * Compose features moor reads and checks but does not apply yet: top-level `configs` and `secrets`,
 * a service's `configs`, `secrets` and `build`. Their structure is checked so that mistakes come with
 * a line; a service that uses them is marked `notApplied` (one skip in the plan, its dependents wait),
 * never refused with the whole file.
 */
import { namedEntries, stringMap } from "./compose-top-level.ts"
import { at } from "./problems.ts"
import { bool, fileMode, map, type Reader, readKeys, seq, text, wrongType } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

export type FileKind = "config" | "secret"

const plural = (kind: FileKind) => `${kind}s`

/** Checks top-level `configs` or `secrets`: each has one source (file, environment, content for configs) or is external. */
export const readFileObjects = (r: Reader, node: YNode, path: string, kind: FileKind): void => {
  namedEntries(r, node, path, kind, (key, options, p, entry) => {
    if (options === undefined) {
      r.problems.fail(
        entry.keyPos,
        p,
        `${kind} ${key} needs a source: file, environment${kind === "config" ? ", content" : ""} or external: true`
      )
      return
    }
    const sources: Array<string> = []
    let external = false
    const source = (e: YEntry, pp: string) => {
      if (text(r, e.value, pp) !== undefined) sources.push(e.key)
    }
    /** Read for its type only. */
    const ignored = (e: YEntry, pp: string) => void text(r, e.value, pp)
    readKeys(r, options, p, {
      prefix: `${plural(kind)}.`,
      read: {
        name: ignored,
        file: source,
        environment: source,
        ...(kind === "config" ? { content: source } : {}),
        external: (e, pp) => {
          if (e.value.kind === "map") {
            readKeys(r, e.value, pp, { prefix: "external.", read: { name: (n, np) => void text(r, n.value, np) } })
            external = true
          } else external = bool(r, e.value, pp) === true
        },
        labels: (e, pp) => void stringMap(r, e.value, pp),
        // Swarm's: a local engine has no use for them; read so that they need not be removed.
        template_driver: ignored,
        ...(kind === "secret"
          ? { driver: ignored, driver_opts: (e: YEntry, pp: string) => void map(r, e.value, pp) }
          : {})
      }
    })
    if (external && sources.length > 0) {
      r.problems.fail(
        entry.keyPos,
        p,
        `an external ${kind} has no ${sources.join(", ")}: drop external or ${sources.join(", ")}`
      )
    } else if (!external && sources.length !== 1) {
      r.problems.fail(
        entry.keyPos,
        p,
        sources.length === 0
          ? `${kind} ${key} needs a source: file, environment${kind === "config" ? ", content" : ""} or external: true`
          : `${kind} ${key} has more than one source (${sources.join(", ")}): keep one`
      )
    }
  })
}

/**
 * A service's `configs` or `secrets`, short (`- name`) or long (`source`, `target`, `uid`, `gid`,
 * `mode`): the names it uses, each declared at the top level.
 */
export const readServiceFiles = (
  r: Reader,
  node: YNode,
  path: string,
  kind: FileKind,
  declared: ReadonlySet<string>
): Array<string> | undefined => {
  const list = seq(r, node, path)
  if (list === undefined) return undefined
  const names: Array<string> = []
  const use = (name: string, n: YNode, p: string) => {
    if (declared.has(name)) names.push(name)
    else
      r.problems.fail(
        n.pos,
        p,
        `${kind} "${name}" is not declared in the top-level ${plural(kind)}; add "${plural(kind)}: { ${name}: { file: ... } }"`
      )
  }
  list.items.forEach((item, i) => {
    const p = at(path, i)
    if (item.kind === "scalar") {
      const name = text(r, item, p)
      if (name !== undefined) use(name, item, p)
      return
    }
    if (item.kind !== "map") return wrongType(r, item, p, `a ${kind} name or a mapping with source`)
    let source: { name: string; node: YNode; path: string } | undefined
    readKeys(r, item, p, {
      prefix: `${plural(kind)}.`,
      read: {
        source: (e, pp) => {
          const v = text(r, e.value, pp)
          if (v !== undefined) source = { name: v, node: e.value, path: pp }
        },
        target: (e, pp) => void text(r, e.value, pp),
        uid: (e, pp) => void text(r, e.value, pp),
        gid: (e, pp) => void text(r, e.value, pp),
        mode: (e, pp) => void fileMode(r, e.value, pp)
      }
    })
    if (source === undefined) r.problems.fail(item.pos, p, `a ${kind} entry needs a source`)
    else use(source.name, source.node, source.path)
  })
  return names
}

/** `build:` is a context path or a mapping; what it holds is Compose's business until moor builds. */
export const readBuild = (r: Reader, node: YNode, path: string): void => {
  if (node.kind === "map") return
  if (node.kind === "scalar" && typeof node.value === "string") text(r, node, path)
  else wrongType(r, node, path, "a build context path or a mapping")
}

/** The reason a service cannot be applied yet, or undefined. */
export const notAppliedReason = (uses: {
  readonly configs: ReadonlyArray<string>
  readonly secrets: ReadonlyArray<string>
  readonly buildOnly: boolean
}): string | undefined => {
  const reasons: Array<string> = []
  if (uses.buildOnly) reasons.push("building images is not applied yet: build and push the image, then set image:")
  const files = [...uses.secrets.map((name) => `secret ${name}`), ...uses.configs.map((name) => `config ${name}`)]
  if (files.length > 0)
    reasons.push(
      `configs/secrets are not applied yet: the service uses ${files.join(", ")}; until moor mounts them, mount the files with volumes:`
    )
  return reasons.length === 0 ? undefined : reasons.join("; ")
}
