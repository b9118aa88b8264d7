/**
 * One app's Compose file (text in, plain app object out) with every problem at its line and column.
 * Hooks named in `x-moor.requires` live in other apps' directories: they come back as `requires`
 * declarations for the loader to resolve once every app is known.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { assembleCompose, type FileSource } from "./compose-files.ts"
import { decodeText } from "./text-guard.ts"
import { type EffectiveOptions, effectiveCompose } from "./compose-effective.ts"
import type { Host } from "../../core/model/desired.ts"
import { readFileObjects } from "./compose-configs.ts"
import { TOP_LEVEL_KEYS, unsupportedHints } from "./compose-keys.ts"
import { portsClash, type PublishedPort, showPublished } from "./compose-ports.ts"
import { type FixedName, readService, type ServiceContext } from "./compose-service.ts"
import { readTopLevel } from "./compose-top-level.ts"
import { parseDotenv } from "./dotenv.ts"
import type { Lookup } from "./interpolate.ts"
import { NAME } from "./names.ts"
import { at, Problems, type SpecProblem } from "./problems.ts"
import { map, type Reader, readKeys, sorted, text, wrongType } from "./reader.ts"
import { type RequireDecl, readXMoor } from "./x-moor.ts"
import { parseYaml, type YEntry, type YMap, type YNode } from "./yaml-tree.ts"

export type { HookDecl, RequireDecl } from "./x-moor.ts"

const TOP_UNSUPPORTED = unsupportedHints(TOP_LEVEL_KEYS)

export interface ComposeInput {
  readonly text: string
  /** The file as shown in messages. */
  readonly file: string
  /** The app's directory, absolute. */
  readonly dir: string
  /** The directory's base name: the app name unless the file says `name:`. */
  readonly dirName: string
  /** The process environment (given explicitly). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The app's `.env` (interpolation only): its text and how to name it in messages. */
  readonly dotEnv?: { readonly text: string; readonly file: string } | undefined
  /** The declared hosts, for `x-moor.hosts` and `x-moor.placement`. */
  readonly hosts: ReadonlyArray<Host>
  /** Reads a file relative to the app's directory (env_file), or by an absolute path. */
  readonly readFile: (relative: string) => Result.Result<Uint8Array, string>
  /** The main file's absolute path (default: the file's name in `dir`). */
  readonly path?: string
  /** Override files merged on top of the main one, in order (absolute paths). */
  readonly overrides?: ReadonlyArray<string>
  /** Included and extended files must be inside this directory (default: `dir`). */
  readonly specRoot?: string
  /** How another file of the spec is named in messages (default: relative to the main file's). */
  readonly shown?: (abs: string) => string
  /** The profiles enabled: a service with `profiles:` runs only when one of its profiles is. */
  readonly profiles?: ReadonlyArray<string>
  /** Profiles enabled on some hosts only (moor.yaml's hosts): such a service runs on those alone. */
  readonly hostProfiles?: ReadonlyMap<string, ReadonlyArray<string>>
}

export interface ParsedCompose {
  /** The app's name: `name:` when valid, else the directory name. */
  readonly name: string
  /**
   * The file could not be read far enough to know the app's name (the directory's name stands in):
   * the app's containers may carry another name.
   */
  readonly nameUnknown?: boolean
  readonly nameLine?: number
  /** The app without `requires` (they need the hooks resolved); undefined when the file has problems. */
  readonly app?: Record<string, unknown>
  /** Hosts from x-moor placement, when it could be read (also for an app with problems). */
  readonly hosts?: ReadonlyArray<string>
  readonly requires: ReadonlyArray<RequireDecl>
  /** Every host port the app's services publish, in file order (for clashes between apps). */
  readonly published: ReadonlyArray<AppPort>
  /** The fixed container names of its services (for two apps fixing one name). */
  readonly containerNames?: ReadonlyArray<FixedName & { readonly service: string }>
  readonly problems: ReadonlyArray<SpecProblem>
  readonly warnings: ReadonlyArray<SpecProblem>
  /** What moor understood, as Compose (`moor config`): files merged, profiles applied, values interpolated. */
  readonly effective?: (options: EffectiveOptions) => unknown
}

export interface AppPort extends PublishedPort {
  readonly service: string
}

/** The interpolation lookup: the process environment first, then the app's `.env`. */
const dotEnvLookup = (input: ComposeInput, problems: Problems): Lookup => {
  const fromEnv: Lookup = (name) => input.env[name]
  if (input.dotEnv === undefined) return fromEnv
  const parsed = parseDotenv(input.dotEnv.text, fromEnv)
  if (Result.isFailure(parsed)) {
    problems.errors.push({
      file: input.dotEnv.file,
      line: parsed.failure.line,
      message: parsed.failure.message
    })
    return fromEnv
  }
  const values = new Map<string, string>()
  for (const e of parsed.success) if (e.value !== undefined) values.set(e.key, e.value)
  return (name) => input.env[name] ?? values.get(name)
}

const find = (node: YMap, key: string): YEntry | undefined => node.entries.find((e) => e.key === key)
const keysOf = (node: YNode | undefined): Set<string> =>
  new Set(node?.kind === "map" ? node.entries.map((e) => e.key) : [])

/** Compose's normalization of a project name: lowercase, only a-z, 0-9, '_', '.', '-', starting with a letter or digit. */
export const normalizeName = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "")
    .replace(/^[^a-z0-9]+/, "")

/** The main file with its override files, includes and extends, as one tree. */
const assemble = (input: ComposeInput, lookup: Lookup, mainRoot: { readonly root: YMap; readonly tagged: boolean }) => {
  const main = input.path ?? nodePath.join(input.dir, nodePath.basename(input.file))
  const shownDir = nodePath.dirname(input.file)
  const source: FileSource = {
    root: input.specRoot ?? input.dir,
    shown: (abs) =>
      abs === main
        ? input.file
        : (input.shown?.(abs) ?? nodePath.join(shownDir, nodePath.relative(nodePath.dirname(main), abs))),
    read: (abs) =>
      abs === main ? Result.succeed(input.text) : Result.flatMap(input.readFile(abs), (bytes) => decodeText(bytes))
  }
  return assembleCompose([main, ...(input.overrides ?? [])], source, lookup, mainRoot)
}

/**
 * Only the services whose profiles are enabled (a service without `profiles:` always is; `*`
 * enables every profile). The others are left out, as Compose leaves them out; one whose profile is
 * enabled on some hosts only (moor.yaml's hosts) is kept, to run on those hosts alone.
 */
const withProfiles = (
  r: Reader,
  root: YMap,
  enabled: ReadonlyArray<string>,
  perHost: ReadonlyMap<string, ReadonlyArray<string>>
): {
  readonly root: YMap
  readonly disabled: ReadonlyMap<string, ReadonlyArray<string>>
  readonly onlyOn: ReadonlyMap<string, ReadonlyArray<string>>
} => {
  const disabled = new Map<string, ReadonlyArray<string>>()
  const onlyOn = new Map<string, ReadonlyArray<string>>()
  const services = find(root, "services")
  if (services === undefined || services.value.kind !== "map") return { root, disabled, onlyOn }
  const all = enabled.includes("*")
  const enables = (list: ReadonlyArray<string>, names: ReadonlyArray<string>) =>
    list.includes("*") || names.some((n) => list.includes(n))
  const kept = services.value.entries.filter((s) => {
    if (s.value.kind !== "map") return true
    const profiles = find(s.value, "profiles")
    if (profiles === undefined) return true
    const list = profiles.value.kind === "seq" ? profiles.value.items : [profiles.value]
    const names: Array<string> = []
    for (const [i, item] of list.entries()) {
      const name = text(r, item, at(`services.${s.key}.profiles`, i))
      if (name !== undefined) names.push(name)
    }
    if (all || enables(enabled, names)) return true
    const hosts = [...perHost].filter(([, list]) => enables(list, names)).map(([host]) => host)
    if (hosts.length > 0) onlyOn.set(s.key, hosts.sort())
    else disabled.set(s.key, names)
    return hosts.length > 0
  })
  if (disabled.size === 0) return { root, disabled, onlyOn }
  const out: YMap = { ...services.value, entries: kept }
  return {
    root: { ...root, entries: root.entries.map((e) => (e === services ? { ...e, value: out } : e)) },
    disabled,
    onlyOn
  }
}

export const parseCompose = (input: ComposeInput): ParsedCompose => {
  const problems = new Problems(input.file)
  const lookup = dotEnvLookup(input, problems)
  const r: Reader = { problems, lookup }
  const done = (rest: Partial<Omit<ParsedCompose, "problems" | "warnings">> & { name: string }): ParsedCompose => ({
    requires: [],
    published: [],
    ...rest,
    problems: problems.errors,
    warnings: problems.warnings
  })
  const yaml = parseYaml(input.text)
  for (const e of yaml.errors) problems.fail(e.pos, "", e.message)
  const unnamed = { name: input.dirName, nameUnknown: true }
  if (yaml.errors.length > 0) return done(unnamed)
  if (yaml.root === undefined) {
    problems.fail(undefined, "", "the file is empty: a Compose file needs at least `services:`")
    return done(unnamed)
  }
  if (yaml.root.kind !== "map") {
    wrongType(r, yaml.root, "", "a mapping with services: at the top")
    return done(unnamed)
  }
  const assembled = assemble(input, lookup, { root: yaml.root, tagged: yaml.tagged })
  problems.errors.push(...assembled.problems)
  problems.warnings.push(...assembled.warnings)
  if (assembled.root === undefined) return done(unnamed)
  // COMPOSE_PROFILES may also come from the app's .env, as Compose reads it there.
  const fromDotEnv = (lookup("COMPOSE_PROFILES") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
  const { root, disabled, onlyOn } = withProfiles(
    r,
    assembled.root,
    [...(input.profiles ?? []), ...fromDotEnv],
    input.hostProfiles ?? new Map()
  )
  const effective = (options: EffectiveOptions) => effectiveCompose(root, name, lookup, options)

  // Name first: every later message and the invalid app carry it.
  let name = input.dirName
  let nameLine: number | undefined
  const nameEntry = find(root, "name")
  // A `name:` that cannot be used leaves the app's real name unknown.
  let nameUnknown = false
  if (nameEntry !== undefined) {
    const declared = text(r, nameEntry.value, "name")
    nameLine = nameEntry.keyPos.line
    nameUnknown = declared === undefined || !NAME.test(declared)
    if (declared !== undefined && !NAME.test(declared)) {
      problems.fail(
        nameEntry.value.pos,
        "name",
        `"${declared}" is not a valid app name: it must start with a lowercase letter or digit and hold only a-z, 0-9, '_', '.', '-'`
      )
    } else if (declared !== undefined) name = declared
  } else if (!NAME.test(input.dirName)) {
    // As Compose makes a project name of a directory's: lowercased, without the characters a name cannot hold.
    const normalized = normalizeName(input.dirName)
    if (normalized === "")
      problems.fail(
        undefined,
        "",
        `the app name comes from the directory name "${input.dirName}", which holds no letter or digit: rename the directory or set name: in the file`
      )
    else {
      name = normalized
      problems.warn(
        undefined,
        "",
        `the app is named "${normalized}" after its directory "${input.dirName}" (as Compose names projects)`
      )
    }
  }

  const declaredVolumes = keysOf(find(root, "volumes")?.value)
  const declaredNetworks = keysOf(find(root, "networks")?.value)
  const serviceNames = keysOf(find(root, "services")?.value)
  const ctx: ServiceContext = {
    appName: name,
    declaredConfigs: keysOf(find(root, "configs")?.value),
    declaredSecrets: keysOf(find(root, "secrets")?.value),
    appDir: input.dir,
    home: input.env.HOME,
    declaredVolumes,
    declaredNetworks,
    serviceNames,
    disabledServices: disabled,
    readFile: input.readFile,
    published: new Map(),
    containerNames: new Map()
  }

  const app: Record<string, unknown> = { name }
  let hosts: ReadonlyArray<string> | undefined
  let requires: ReadonlyArray<RequireDecl> = []
  let sawServices = false
  readKeys(r, root, "", {
    unsupported: TOP_UNSUPPORTED,
    read: {
      name: () => {},
      version: (e) => {
        problems.warn(
          e.keyPos,
          "version",
          'the top-level "version" is obsolete in Compose and ignored; use x-moor.version for the app version'
        )
      },
      services: (e, p) => {
        sawServices = true
        const services = map(r, e.value, p)
        if (services === undefined) return
        if (services.entries.length === 0)
          problems.fail(
            e.value.pos,
            p,
            "an app needs at least one service: add one under services: (a name with an image:)"
          )
        const out: Array<readonly [string, unknown]> = []
        for (const s of services.entries) {
          if (s.key.startsWith("x-")) continue
          const service = readService(r, s.key, s, at(p, s.key), ctx)
          const hosts = onlyOn.get(s.key)
          if (service !== undefined)
            out.push([s.key, hosts === undefined ? service : sorted(Object.entries({ ...service, hosts }))])
        }
        app.services = sorted(out)
      },
      volumes: (e, p) => {
        const v = readTopLevel(r, e.value, p, "volume")
        if (v !== undefined) app.volumes = v
      },
      networks: (e, p) => {
        const n = readTopLevel(r, e.value, p, "network")
        if (n !== undefined) app.networks = n
      },
      configs: (e, p) => readFileObjects(r, e.value, p, "config"),
      secrets: (e, p) => readFileObjects(r, e.value, p, "secret"),
      "x-moor": (e, p) => {
        const x = readXMoor(r, e.value, p, input.hosts, name)
        if (x === undefined) return
        if (x.version !== undefined) app.version = x.version
        if (x.hosts !== undefined) {
          hosts = x.hosts
          app.hosts = x.hosts
        }
        requires = x.requires
      }
    }
  })
  if (!sawServices)
    problems.fail(
      root.pos,
      "",
      'the file has no "services" key: add services: with at least one service (a name with an image:)'
    )
  const published = portsInFileOrder(ctx.published)
  clashesWithin(r, published)
  const containerNames = [...(ctx.containerNames ?? [])].map(([service, n]) => ({ ...n, service }))
  for (const [i, n] of containerNames.entries()) {
    const first = containerNames.findIndex((o) => o.name === n.name)
    if (first < i)
      problems.fail(
        n.pos,
        n.path,
        `container_name "${n.name}" is also service ${containerNames[first]?.service}'s (line ${containerNames[first]?.pos.line}): a name holds one container; give each its own`
      )
  }
  app.source = nameLine === undefined ? { file: input.file } : { file: input.file, line: nameLine }
  return done({
    name,
    ...(nameUnknown ? { nameUnknown } : {}),
    ...(nameLine === undefined ? {} : { nameLine }),
    ...(problems.ok ? { app: sorted(Object.entries(app)) } : {}),
    ...(hosts === undefined ? {} : { hosts }),
    requires,
    published,
    ...(containerNames.length === 0 ? {} : { containerNames }),
    effective
  })
}

const portsInFileOrder = (byService: ReadonlyMap<string, ReadonlyArray<PublishedPort>> | undefined) =>
  [...(byService ?? [])]
    .flatMap(([service, ports]) => ports.map((p): AppPort => ({ ...p, service })))
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column)

/** A host port published twice in one app (by one service or two): the later entry is the problem. */
const clashesWithin = (r: Reader, ports: ReadonlyArray<AppPort>): void => {
  const kept: Array<AppPort> = []
  for (const p of ports) {
    const owner = kept.find((k) => portsClash(k.port, p.port))
    if (owner === undefined) {
      kept.push(p)
      continue
    }
    const by = owner.service === p.service ? "this service" : `service ${owner.service}`
    const mine = showPublished(p.port)
    const theirs = showPublished(owner.port)
    r.problems.fail(
      p.pos,
      p.path,
      `host port ${mine} is already published by ${by} (${theirs === mine ? "" : `as ${theirs}, `}line ${owner.pos.line}): publish another host port`
    )
  }
}
