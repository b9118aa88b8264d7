/**
 * One app's Compose model from its files, as Compose assembles it: the main file, then its override
 * file merged on top; in each file, `include` imports other projects (each with its own directory
 * and variables) and `extends` builds a service on another (in the same file or another one).
 * The result is one positioned tree whose nodes remember the file they come from.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { parseDotenv } from "./dotenv.ts"
import type { Lookup } from "./interpolate.ts"
import { mergeMaps, mergeNodes, strip } from "./compose-merge.ts"
import { at, Problems, type SpecProblem } from "./problems.ts"
import { type Origin, parseYaml, type YEntry, type YMap, type YNode } from "./yaml-tree.ts"

export interface FileSource {
  /** The text of a file, by absolute path, or why it cannot be read. */
  readonly read: (abs: string) => Result.Result<string, string>
  /** How a path is shown in messages. */
  readonly shown: (abs: string) => string
  /** Included and extended files must be inside this directory (the spec's root). */
  readonly root: string
}

export interface Assembled {
  /** The merged model; undefined when a file could not be read or parsed. */
  readonly root: YMap | undefined
  readonly problems: ReadonlyArray<SpecProblem>
  readonly warnings: ReadonlyArray<SpecProblem>
  /** Every file read, absolute, in the order read. */
  readonly files: ReadonlyArray<string>
}

/** Resources an included project brings into the including one. */
const IMPORTED = ["services", "volumes", "networks", "secrets", "configs", "models"]

const entryOf = (m: YMap, key: string): YEntry | undefined => m.entries.find((e) => e.key === key)
const text = (n: YNode | undefined): string | undefined =>
  n?.kind === "scalar" && typeof n.value === "string"
    ? n.value
    : n?.kind === "scalar" && typeof n.value === "number"
      ? String(n.value)
      : undefined

class Assembly {
  readonly problems: Problems
  readonly files: Array<string> = []
  private readonly source: FileSource
  private readonly parsed = new Map<string, YMap | undefined>()
  private readonly main: string
  /** The main file, already parsed by the caller, and whether it holds a merge tag. */
  private readonly mainRoot: YMap | undefined
  private readonly mainTagged: boolean
  /** Some file read holds `!reset` or `!override`: the result is stripped of them. */
  tagged = false
  constructor(
    source: FileSource,
    main: string,
    mainRoot: { readonly root: YMap; readonly tagged: boolean } | undefined
  ) {
    this.source = source
    this.main = main
    this.mainRoot = mainRoot?.root
    this.mainTagged = mainRoot?.tagged ?? false
    this.problems = new Problems(source.shown(main))
  }

  /** A file's tree, read once; its nodes carry `origin`. */
  parse(abs: string, lookup: Lookup | undefined, from: YNode | undefined, fromPath: string): YMap | undefined {
    const key = `${abs}\u0000${lookup === undefined ? "" : "own"}`
    if (this.parsed.has(key)) return this.parsed.get(key)
    if (abs === this.main && lookup === undefined && this.mainRoot !== undefined) {
      this.files.push(abs)
      if (this.mainTagged) this.tagged = true
      this.parsed.set(key, this.mainRoot)
      return this.mainRoot
    }
    const shown = this.source.shown(abs)
    const fail = (message: string) => {
      this.problems.fail(from?.pos, fromPath, message)
      this.parsed.set(key, undefined)
      return undefined
    }
    const rel = nodePath.relative(this.source.root, abs)
    if (rel.startsWith("..") || nodePath.isAbsolute(rel))
      return fail(
        `${shown} is outside the spec directory ${this.source.shown(this.source.root)}: moor reads only files inside the spec; move it there`
      )
    const content = this.source.read(abs)
    if (Result.isFailure(content)) return fail(`${shown}: ${content.failure}`)
    this.files.push(abs)
    const origin: Origin = { file: shown, dir: nodePath.dirname(abs), ...(lookup === undefined ? {} : { lookup }) }
    // The app's own file needs no origin: its positions and paths are the app's.
    const yaml = parseYaml(content.success, abs === this.main && lookup === undefined ? undefined : origin)
    if (yaml.tagged) this.tagged = true
    for (const e of yaml.errors) this.problems.fail(e.pos ?? { line: 1, column: 1, origin }, "", e.message)
    if (yaml.errors.length > 0) return fail(`${shown} has errors (see above)`)
    const root = yaml.root
    if (root === undefined || root.kind !== "map") {
      this.problems.fail({ line: 1, column: 1, origin }, "", "expected a mapping with services: at the top")
      this.parsed.set(key, undefined)
      return undefined
    }
    this.parsed.set(key, root)
    return root
  }

  /** Files merged in order (a project's file and its overrides), each with its includes and extends. */
  project(
    files: ReadonlyArray<string>,
    lookup: Lookup | undefined,
    chain: ReadonlyArray<string>,
    from?: YEntry
  ): YMap | undefined {
    let acc: YMap | undefined
    for (const abs of files) {
      const root = this.parse(abs, lookup, from?.value, from === undefined ? "" : "include")
      if (root === undefined) return undefined
      const withIncludes = this.include(root, abs, lookup, [...chain, abs])
      const file = this.extend(withIncludes, abs, lookup)
      acc = acc === undefined ? file : mergeMaps(acc, file, [])
    }
    return acc
  }

  /** `include`: each entry's project, its resources imported (the including file's own definitions win). */
  private include(root: YMap, abs: string, lookup: Lookup | undefined, chain: ReadonlyArray<string>): YMap {
    const entry = entryOf(root, "include")
    if (entry === undefined) return root
    let out: YMap = { ...root, entries: root.entries.filter((e) => e.key !== "include") }
    const items = entry.value.kind === "seq" ? entry.value.items : [entry.value]
    const dir = nodePath.dirname(abs)
    items.forEach((item, i) => {
      const p = at("include", i)
      const spec = this.includeSpec(item, p, dir)
      if (spec === undefined) return
      const cycle = spec.paths.find((f) => chain.includes(f))
      if (cycle !== undefined) {
        this.problems.fail(
          item.pos,
          p,
          `include cycle: ${[...chain, cycle].map((f) => this.source.shown(f)).join(" -> ")}: remove one of these includes`
        )
        return
      }
      const envLookup = this.includeLookup(spec, lookup, item, p)
      const imported = this.project(spec.paths, envLookup, chain, { key: p, keyPos: item.pos, value: item })
      if (imported === undefined) return
      out = importResources(imported, out)
    })
    return out
  }

  private includeSpec(
    item: YNode,
    p: string,
    dir: string
  ): { paths: Array<string>; projectDir: string; envFiles: Array<string> } | undefined {
    const fail = (message: string) => {
      this.problems.fail(item.pos, p, message)
      return undefined
    }
    const strings = (n: YNode | undefined, key: string): Array<string> | undefined => {
      if (n === undefined) return []
      const list = n.kind === "seq" ? n.items : [n]
      const out = list.map(text)
      if (out.some((s) => s === undefined)) return fail(`include ${key} must be a path or a list of paths`)
      return out as Array<string>
    }
    if (item.kind === "scalar") {
      const path = text(item)
      if (path === undefined) return fail("an include entry is a path, or a mapping with path:")
      const abs = nodePath.resolve(dir, path)
      return { paths: [abs], projectDir: nodePath.dirname(abs), envFiles: [] }
    }
    if (item.kind !== "map") return fail("an include entry is a path, or a mapping with path:")
    for (const e of item.entries)
      if (!["path", "project_directory", "env_file"].includes(e.key))
        this.problems.fail(
          e.keyPos,
          at(p, e.key),
          `unknown key "include.${e.key}" (include takes path, project_directory, env_file)`
        )
    const paths = strings(entryOf(item, "path")?.value, "path")
    if (paths === undefined) return undefined
    if (paths.length === 0) return fail("an include entry needs path:")
    const abs = paths.map((f) => nodePath.resolve(dir, f))
    const projectDirText = text(entryOf(item, "project_directory")?.value)
    const projectDir = projectDirText === undefined ? nodePath.dirname(abs[0]!) : nodePath.resolve(dir, projectDirText)
    const envFiles = strings(entryOf(item, "env_file")?.value, "env_file")
    if (envFiles === undefined) return undefined
    return { paths: abs, projectDir, envFiles: envFiles.map((f) => nodePath.resolve(dir, f)) }
  }

  /** The included project's variables: the including project's first, then its env files (or its `.env`). */
  private includeLookup(
    spec: { projectDir: string; envFiles: Array<string> },
    lookup: Lookup | undefined,
    item: YNode,
    p: string
  ): Lookup | undefined {
    const files = spec.envFiles.length > 0 ? spec.envFiles : [nodePath.join(spec.projectDir, ".env")]
    const values = new Map<string, string>()
    const outer: Lookup = (name) => lookup?.(name) ?? this.baseLookup?.(name)
    for (const f of files) {
      if (f === "/dev/null") continue
      const content = this.source.read(f)
      if (Result.isFailure(content)) {
        if (spec.envFiles.length > 0)
          this.problems.fail(item.pos, p, `env file ${this.source.shown(f)}: ${content.failure}`)
        continue
      }
      this.files.push(f)
      const parsed = parseDotenv(content.success, (name) => values.get(name) ?? outer(name))
      if (Result.isFailure(parsed)) {
        this.problems.fail(
          item.pos,
          p,
          `env file ${this.source.shown(f)} line ${parsed.failure.line}: ${parsed.failure.message}`
        )
        continue
      }
      for (const e of parsed.success) if (e.value !== undefined && !values.has(e.key)) values.set(e.key, e.value)
    }
    return (name) => outer(name) ?? values.get(name)
  }

  /** The lookup of the app itself (its process environment and `.env`), for included projects. */
  baseLookup: Lookup | undefined

  /** `extends` resolved for every service of a file. */
  private extend(root: YMap, abs: string, lookup: Lookup | undefined): YMap {
    const services = entryOf(root, "services")
    if (services === undefined || services.value.kind !== "map") return root
    const svcMap = services.value
    if (!svcMap.entries.some((e) => e.value.kind === "map" && entryOf(e.value, "extends") !== undefined)) return root
    const resolved: YMap = {
      ...svcMap,
      entries: svcMap.entries.map((e) => ({
        ...e,
        value: this.extendService(e.key, svcMap, abs, lookup, [])
      }))
    }
    return { ...root, entries: root.entries.map((e) => (e === services ? { ...e, value: resolved } : e)) }
  }

  private extendService(
    name: string,
    services: YMap,
    abs: string,
    lookup: Lookup | undefined,
    chain: ReadonlyArray<string>
  ): YNode {
    const entry = entryOf(services, name)
    const service = entry?.value
    if (service === undefined || service.kind !== "map")
      return service ?? { kind: "map", entries: [], pos: services.pos }
    const ext = entryOf(service, "extends")
    if (ext === undefined) return service
    const p = `services.${name}.extends`
    const own: YMap = { ...service, entries: service.entries.filter((e) => e !== ext) }
    let ref: string | undefined
    let file: string | undefined
    if (ext.value.kind === "map") {
      for (const e of ext.value.entries)
        if (e.key !== "service" && e.key !== "file")
          this.problems.fail(e.keyPos, at(p, e.key), `unknown key "extends.${e.key}" (extends takes service and file)`)
      ref = text(entryOf(ext.value, "service")?.value)
      file = text(entryOf(ext.value, "file")?.value)
      if (ref === undefined) {
        this.problems.fail(ext.value.pos, p, "extends needs service: (the service to start from)")
        return own
      }
    } else {
      ref = text(ext.value)
      if (ref === undefined) {
        this.problems.fail(ext.value.pos, p, "extends is a service name, or a mapping with service: and file:")
        return own
      }
    }
    let baseServices = services
    let baseFile = abs
    if (file !== undefined) {
      baseFile = nodePath.resolve(nodePath.dirname(abs), file)
      const other = this.parse(baseFile, lookup, ext.value, p)
      if (other === undefined) return own
      const s = entryOf(other, "services")?.value
      if (s === undefined || s.kind !== "map") {
        this.problems.fail(ext.value.pos, p, `${this.source.shown(baseFile)} has no services: to extend`)
        return own
      }
      baseServices = s
    }
    const link = `${baseFile}#${ref}`
    if (chain.includes(link) || (file === undefined && ref === name)) {
      this.problems.fail(
        ext.value.pos,
        p,
        `extends cycle: ${[...chain, `${abs}#${name}`, link].map((l) => l.replace(/^.*\//, "")).join(" -> ")}: break it`
      )
      return own
    }
    if (entryOf(baseServices, ref) === undefined) {
      const names = baseServices.entries
        .map((e) => e.key)
        .sort()
        .join(", ")
      this.problems.fail(
        ext.value.pos,
        p,
        `service "${ref}" is not defined in ${this.source.shown(baseFile)} (services: ${names}): name one of these`
      )
      return own
    }
    const base = this.extendService(ref, baseServices, baseFile, lookup, [...chain, `${abs}#${name}`])
    return mergeNodes(base, own, ["services", name])
  }
}

/** Adds an included project's resources; a resource the including file also defines is merged, its own definition winning. */
const importResources = (imported: YMap, into: YMap): YMap => {
  let out = into
  for (const key of IMPORTED) {
    const from = entryOf(imported, key)
    if (from === undefined || from.value.kind !== "map") continue
    const mine = entryOf(out, key)
    if (mine === undefined) {
      out = { ...out, entries: [...out.entries, from] }
      continue
    }
    const merged = mine.value.kind === "map" ? mergeMaps(from.value, mine.value, [key]) : (mine.value as YNode)
    out = { ...out, entries: out.entries.map((e) => (e === mine ? { ...e, value: merged } : e)) }
  }
  return out
}

/**
 * The app's model from its main file and its override files (in order), with every include and
 * extends resolved and the merge tags applied. `lookup` is the app's own variables (for the
 * variables of included projects, which see the app's first).
 */
export const assembleCompose = (
  files: ReadonlyArray<string>,
  source: FileSource,
  lookup: Lookup,
  mainRoot?: { readonly root: YMap; readonly tagged: boolean }
): Assembled => {
  const main = files[0] ?? ""
  const a = new Assembly(source, main, mainRoot)
  a.baseLookup = lookup
  const root = a.project(files, undefined, [])
  return {
    root: root === undefined || !a.problems.ok ? undefined : a.tagged ? (strip(root) as YMap) : root,
    problems: a.problems.errors,
    warnings: a.problems.warnings,
    files: a.files
  }
}
