/**
 * Loading a spec: find the apps, read `moor.yaml`/`hosts.yaml`, parse each Compose file, resolve
 * hooks across apps, and assemble the raw desired input plus everything the runners need.
 * Synchronous over a `SpecFs`, so it runs the same on disk and in memory.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { DEFAULT_HOST, type Host, type InvalidApp } from "../../core/model/desired.ts"
import { parseCompose, type ParsedCompose } from "./compose-app.ts"
import { type AppFacts, containerNameClashes, portClashes, requiresCycles } from "./cross-app.ts"
import { resolveHook } from "./hooks.ts"
import { type DeclaredHost, type MoorConfig, parseHostsYaml, parseMoorYaml } from "./moor-config.ts"
import { formatProblem, type SpecProblem } from "./problems.ts"
import { sorted } from "./reader.ts"
import { SpecError } from "./spec-error.ts"
import { readWhole, type SpecFs } from "./spec-fs.ts"
import type { AppFile, EngineConnection, LoadedSpec } from "./spec-types.ts"
import { decodeText } from "./text-guard.ts"

/** The names Compose looks for in a directory, in its order of preference. */
export const COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"] as const
/** The override files Compose merges on top of the chosen file, in its order of preference. */
export const OVERRIDE_FILES = [
  "compose.override.yml",
  "compose.override.yaml",
  "docker-compose.override.yml",
  "docker-compose.override.yaml"
] as const

export interface LoadOptions {
  /** The process environment: interpolation, `environment` names without values, DOCKER_HOST, COMPOSE_PROFILES. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly fs: SpecFs
  /** Compose profiles to enable (`--profile`), beside COMPOSE_PROFILES and moor.yaml's `profiles:`. */
  readonly profiles?: ReadonlyArray<string>
}

/** The default scope: the root directory's name, lowercased and cut to the Name pattern. */
export const scopeFromDir = (dir: string): string => {
  const s = nodePath
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
  return s === "" ? "moor" : s
}

interface Candidate {
  readonly dir: string
  readonly dirName: string
  readonly files: ReadonlyArray<string>
  /** The files were found in the directory (not given as the spec): its override file applies. */
  readonly own: boolean
  /** The directory (or its Compose file) cannot be read: where, and why. */
  readonly unreadable?: { readonly path: string; readonly reason: string }
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The Compose files in a directory; a failure names the path that cannot be looked at, and why. */
const composeFilesIn = (
  fs: SpecFs,
  dir: string,
  names: ReadonlyArray<string> = COMPOSE_FILES
): Result.Result<Array<string>, { readonly path: string; readonly reason: string }> => {
  const files: Array<string> = []
  // One listing instead of a stat per name (most are missing, and a failed stat is costly); a
  // directory that cannot be listed is asked name by name, so what cannot be read is reported as such.
  const listing = fs.readDir(dir)
  const present = Result.isSuccess(listing) ? names.filter((f) => listing.success.includes(f)) : names
  for (const f of present) {
    const path = nodePath.join(dir, f)
    const s = fs.stat(path)
    if (Result.isFailure(s)) return Result.fail({ path, reason: s.failure })
    if (s.success?.kind === "file") files.push(f)
  }
  return Result.succeed(files)
}

/** A directory entry of the spec root: an app's directory, something else, or something that cannot be read. */
const candidateAt = (fs: SpecFs, dir: string, dirName: string): Candidate | undefined => {
  const s = fs.stat(dir)
  if (Result.isFailure(s)) return { dir, dirName, files: [], own: true, unreadable: { path: dir, reason: s.failure } }
  if (s.success?.kind !== "dir") return undefined
  const files = composeFilesIn(fs, dir)
  if (Result.isFailure(files)) return { dir, dirName, files: [], own: true, unreadable: files.failure }
  if (files.success.length > 0) return { dir, dirName, files: files.success, own: true }
  // An override file alone: the user meant an app here, which Compose would refuse to run. It is left
  // alone, as an app whose name cannot be known, rather than taken for no app (and its containers for gone).
  const overrides = composeFilesIn(fs, dir, OVERRIDE_FILES)
  if (Result.isFailure(overrides)) return { dir, dirName, files: [], own: true, unreadable: overrides.failure }
  const [first] = overrides.success
  if (first === undefined) return undefined
  return {
    dir,
    dirName,
    files: [],
    own: true,
    unreadable: {
      path: nodePath.join(dir, first),
      reason: `${first} is an override file, merged on top of a compose.yaml, and this directory has none: add the compose.yaml it overrides, or rename ${first} to compose.yaml`
    }
  }
}

/** Reads a text file whole (see `readWhole`), with the size and binary guards; the failure is a sentence. */
const readText = (fs: SpecFs, file: string): Result.Result<string, string> => {
  const bytes = readWhole(fs, file)
  return Result.isFailure(bytes) ? Result.fail(bytes.failure) : decodeText(bytes.success)
}

export const loadSpec = (given: string, options: LoadOptions): Result.Result<LoadedSpec, SpecError> => {
  const { fs, env } = options
  const fail = (message: string, problems: ReadonlyArray<SpecProblem> = []) =>
    Result.fail(new SpecError({ path: given, message, problems: [...problems] }))
  const abs = nodePath.resolve(given)
  const rootStat = fs.stat(abs)
  if (Result.isFailure(rootStat)) return fail(`${given}: ${rootStat.failure}`)
  const stat = rootStat.success
  if (stat === undefined)
    return fail(
      `${given}: no such file or directory: give the spec's directory (one directory per app) or a Compose file`
    )

  let root: string
  let shownRoot: string
  let candidates: Array<Candidate>
  if (stat.kind === "file") {
    root = nodePath.dirname(abs)
    shownRoot = nodePath.dirname(given)
    candidates = [{ dir: root, dirName: nodePath.basename(root), files: [nodePath.basename(abs)], own: false }]
  } else if (stat.kind === "dir") {
    root = abs
    shownRoot = given
    const here = composeFilesIn(fs, root)
    // Whether the root is one app or a directory of apps cannot be told: nothing is planned.
    if (Result.isFailure(here))
      return fail(`${nodePath.join(given, nodePath.relative(root, here.failure.path))}: ${here.failure.reason}`)
    if (here.success.length > 0)
      candidates = [{ dir: root, dirName: nodePath.basename(root), files: here.success, own: true }]
    else {
      const entries = fs.readDir(root)
      if (Result.isFailure(entries)) return fail(`${given}: ${entries.failure}`)
      candidates = []
      for (const entry of entries.success) {
        if (entry.startsWith(".")) continue
        const c = candidateAt(fs, nodePath.join(root, entry), entry)
        if (c !== undefined) candidates.push(c)
      }
    }
  } else return fail(`${given}: not a directory or a Compose file`)
  if (candidates.length === 0) {
    return fail(
      `${given}: no apps found: a spec holds one directory per app, each with a compose.yaml (or compose.yml, docker-compose.yaml, docker-compose.yml)`
    )
  }
  const shown = (p: string): string => nodePath.join(shownRoot, nodePath.relative(root, p))

  // moor.yaml and hosts.yaml
  const config = readConfig(fs, root, shown)
  if (Result.isFailure(config)) return fail(config.failure.map(formatProblem).join("\n"), config.failure)
  const declared = config.success.hosts
  const hosts: ReadonlyArray<Host> = declared?.map((d) => d.host) ?? [{ name: DEFAULT_HOST }]
  const engines: ReadonlyArray<EngineConnection> = declared?.map((d) => d.engine) ?? [defaultEngine(env)]
  const scope = config.success.scope ?? scopeFromDir(root)
  const hostProfiles = new Map(
    (declared ?? []).flatMap((d) => (d.profiles === undefined ? [] : [[d.host.name, d.profiles] as const]))
  )
  const profiles = [
    ...new Set([
      ...(options.profiles ?? []),
      ...(env.COMPOSE_PROFILES ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
      ...(config.success.profiles ?? [])
    ])
  ]

  // Each app's file. An app whose file (or directory, or .env) cannot be read is invalid under its
  // directory's name, and `unreadable`: the file may name the app otherwise, so no app is taken for gone.
  const parsed: Array<{ candidate: Candidate; file: string; result: ParsedCompose }> = []
  for (const c of candidates) {
    const file = nodePath.join(c.dir, c.files[0] ?? "")
    const problem = (message: string, where = file): ParsedCompose => ({
      name: c.dirName,
      nameUnknown: true,
      requires: [],
      published: [],
      problems: [{ file: shown(where), message }],
      warnings: []
    })
    if (c.unreadable !== undefined) {
      parsed.push({ candidate: c, file: c.unreadable.path, result: problem(c.unreadable.reason, c.unreadable.path) })
      continue
    }
    // As Compose: the first of its file names wins, with a warning; the override file goes on top.
    const chosen: Array<SpecProblem> =
      c.files.length > 1
        ? [
            {
              file: shown(c.dir),
              message: `found several Compose files (${c.files.join(", ")}): using ${c.files[0]}, as Compose does; remove the others`
            }
          ]
        : []
    const overrides = c.own ? composeFilesIn(fs, c.dir, OVERRIDE_FILES) : Result.succeed([])
    if (Result.isFailure(overrides)) {
      parsed.push({ candidate: c, file, result: problem(overrides.failure.reason, overrides.failure.path) })
      continue
    }
    if (overrides.success.length > 1)
      chosen.push({
        file: shown(c.dir),
        message: `found several override files (${overrides.success.join(", ")}): using ${overrides.success[0]}, as Compose does`
      })
    const text = readText(fs, file)
    if (Result.isFailure(text)) {
      parsed.push({ candidate: c, file, result: problem(text.failure) })
      continue
    }
    const dotEnvPath = nodePath.join(c.dir, ".env")
    let dotEnv: { text: string; file: string } | undefined
    const dotEnvStat = fs.stat(dotEnvPath)
    if (Result.isFailure(dotEnvStat) || dotEnvStat.success !== undefined) {
      const t = readText(fs, dotEnvPath)
      if (Result.isFailure(t)) {
        parsed.push({ candidate: c, file, result: problem(t.failure, dotEnvPath) })
        continue
      }
      dotEnv = { text: t.success, file: shown(dotEnvPath) }
    }
    const parsedApp = parseCompose({
      text: text.success,
      file: shown(file),
      path: file,
      dir: c.dir,
      dirName: c.dirName,
      env,
      dotEnv,
      hosts,
      readFile: (relative) => readWhole(fs, nodePath.resolve(c.dir, relative)),
      overrides: overrides.success.slice(0, 1).map((f) => nodePath.join(c.dir, f)),
      specRoot: root,
      shown,
      profiles,
      hostProfiles
    })
    const result = chosen.length === 0 ? parsedApp : { ...parsedApp, warnings: [...chosen, ...parsedApp.warnings] }
    parsed.push({ candidate: c, file, result })
  }
  parsed.sort((a, b) => byName(a.result.name, b.result.name) || byName(a.candidate.dir, b.candidate.dir))

  // Names must be unique; hooks resolve against the providers' directories.
  const owners = new Map<string, { dir: string; file: string }>()
  const extra = new Map<ParsedCompose, Array<SpecProblem>>()
  const addProblem = (p: ParsedCompose, problem: SpecProblem) => {
    const list = extra.get(p) ?? []
    list.push(problem)
    extra.set(p, list)
  }
  // Two files claiming one name: neither is planned (which one was meant cannot be known, and the
  // one first by directory name could silently replace the running app).
  for (const { candidate, file, result } of parsed) {
    if (!owners.has(result.name)) owners.set(result.name, { dir: candidate.dir, file: shown(file) })
    const others = parsed.filter((p) => p.result.name === result.name && p.file !== file).map((p) => shown(p.file))
    if (others.length === 0) continue
    addProblem(result, {
      file: shown(file),
      ...(result.nameLine === undefined ? {} : { line: result.nameLine }),
      message: `app name "${result.name}" is also used by ${others.join(", ")}: give each app its own name (name: in the file, or the directory's name)`
    })
  }
  const appNames = [...owners.keys()].sort().join(", ")

  const resolved = new Map<ParsedCompose, Array<Record<string, unknown>>>()
  for (const { file, result } of parsed) {
    const requires: Array<Record<string, unknown>> = []
    resolved.set(result, requires)
    for (const decl of result.requires) {
      const at = (message: string, pos = decl.pos, path = decl.path) =>
        addProblem(result, { file: shown(file), line: pos.line, column: pos.column, path, message })
      const provider = owners.get(decl.app)
      if (provider === undefined) {
        at(`app "${decl.app}" is not in the spec (apps: ${appNames}): correct the name, or add the app`)
        continue
      }
      if (decl.onStart === undefined) {
        requires.push({ app: decl.app })
        continue
      }
      const hook = resolveHook(fs, provider.dir, shown(provider.dir), decl.onStart.script)
      if (Result.isFailure(hook)) {
        at(hook.failure, decl.onStart.pos, decl.onStart.path)
        continue
      }
      const { script, content } = hook.success
      const { service, timeoutMs } = decl.onStart
      requires.push({
        app: decl.app,
        onStart: sorted(
          Object.entries({
            script,
            content,
            ...(service === undefined ? {} : { service }),
            ...(timeoutMs === undefined ? {} : { timeoutMs })
          })
        )
      })
    }
  }

  // Across apps: requires cycles, host ports published twice on one host.
  const owning = parsed.filter(({ candidate, result }) => owners.get(result.name)?.dir === candidate.dir)
  const ownerOf = new Map(owning.map(({ result }) => [result.name, result]))
  const defaultHost = hosts.find((h) => h.name === DEFAULT_HOST)?.name ?? hosts[0]?.name ?? DEFAULT_HOST
  const facts = (): Array<AppFacts> =>
    owning.map(({ file, result }) => ({
      name: result.name,
      file: shown(file),
      requires: result.requires,
      published: result.published,
      containerNames: result.containerNames ?? [],
      hosts: result.hosts ?? [defaultHost],
      ok: result.app !== undefined && result.problems.length === 0 && (extra.get(result) ?? []).length === 0
    }))
  // Cycles first: an app left out for its cycle holds no host port another app is then refused for.
  for (const check of [requiresCycles, portClashes, containerNameClashes]) {
    for (const [name, list] of check(facts())) {
      const result = ownerOf.get(name)
      if (result !== undefined) for (const p of list) addProblem(result, p)
    }
  }

  const apps: Array<Record<string, unknown>> = []
  const invalid: Array<InvalidApp> = []
  const problems: Array<SpecProblem> = []
  const warnings: Array<SpecProblem> = []
  const files: Array<AppFile> = []
  const unreadable: Array<SpecProblem> = []
  for (const { candidate, file, result } of parsed) {
    files.push({
      name: result.name,
      dir: candidate.dir,
      file: shown(file),
      ...(result.effective === undefined ? {} : { effective: result.effective })
    })
    const requires = resolved.get(result) ?? []
    const all = [...result.problems, ...(extra.get(result) ?? [])]
    problems.push(...all)
    warnings.push(...result.warnings)
    if (result.nameUnknown === true) {
      const why = result.problems.find((p) => p.path === "name") ?? result.problems[0]
      if (why !== undefined) unreadable.push(why)
    }
    if (all.length === 0 && result.app !== undefined) {
      apps.push(requires.length === 0 ? result.app : sorted(Object.entries({ ...result.app, requires })))
    } else {
      // Two files of one name are one app left alone, with both files' problems.
      const message = all.map(formatProblem).join("\n")
      const same = invalid.findIndex((a) => a.name === result.name)
      const previous = invalid[same]
      if (previous !== undefined) invalid[same] = { ...previous, message: `${previous.message}\n${message}` }
      else invalid.push({ name: result.name, message, ...(result.hosts === undefined ? {} : { hosts: result.hosts }) })
    }
  }

  return Result.succeed({
    root,
    path: fs.realPath(abs) ?? abs,
    scope,
    scopeFromFolder: config.success.scope === undefined,
    hosts,
    engines,
    input: { scope, hosts, apps },
    invalid,
    unreadable,
    problems,
    warnings,
    files
  })
}

/** The spec under a scope given from outside (`--scope`): a scope set, no longer the folder's name. */
export const withScope = (loaded: LoadedSpec, scope: string): LoadedSpec => ({
  ...loaded,
  scope,
  scopeFromFolder: false,
  input: { ...loaded.input, scope }
})

/** The default host `local`: DOCKER_HOST, and DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is on. */
const defaultEngine = (env: Readonly<Record<string, string | undefined>>): EngineConnection => {
  const endpoint = env.DOCKER_HOST === undefined || env.DOCKER_HOST === "" ? undefined : env.DOCKER_HOST
  const certPath = env.DOCKER_CERT_PATH
  const verify = env.DOCKER_TLS_VERIFY
  const tls =
    certPath !== undefined && certPath !== "" && verify !== undefined && verify !== "" && verify !== "0"
      ? {
          ca: nodePath.join(certPath, "ca.pem"),
          cert: nodePath.join(certPath, "cert.pem"),
          key: nodePath.join(certPath, "key.pem")
        }
      : undefined
  return { name: DEFAULT_HOST, ...(endpoint === undefined ? {} : { endpoint }), ...(tls === undefined ? {} : { tls }) }
}

interface Config {
  readonly scope?: string
  readonly hosts?: ReadonlyArray<DeclaredHost>
  readonly profiles?: ReadonlyArray<string>
}

const readConfig = (
  fs: SpecFs,
  root: string,
  shown: (p: string) => string
): Result.Result<Config, ReadonlyArray<SpecProblem>> => {
  const read = (
    name: string,
    parse: (text: string, file: string, root: string) => MoorConfig
  ): Result.Result<MoorConfig | undefined, ReadonlyArray<SpecProblem>> => {
    const path = nodePath.join(root, name)
    const stat = fs.stat(path)
    if (Result.isSuccess(stat) && stat.success === undefined) return Result.succeed(undefined)
    const text = readText(fs, path)
    if (Result.isFailure(text)) return Result.fail([{ file: shown(path), message: text.failure }])
    const config = parse(text.success, shown(path), root)
    return config.problems.length > 0 ? Result.fail(config.problems) : Result.succeed(config)
  }
  const moor = read("moor.yaml", parseMoorYaml)
  if (Result.isFailure(moor)) return Result.fail(moor.failure)
  const hostsFile = read("hosts.yaml", parseHostsYaml)
  if (Result.isFailure(hostsFile)) return Result.fail(hostsFile.failure)
  if (moor.success?.hosts !== undefined && hostsFile.success?.hosts !== undefined) {
    return Result.fail([
      {
        file: shown(nodePath.join(root, "hosts.yaml")),
        message: "hosts are declared in both moor.yaml and hosts.yaml: keep one"
      }
    ])
  }
  const hosts = moor.success?.hosts ?? hostsFile.success?.hosts
  const missing: Array<SpecProblem> = []
  const configFile = moor.success?.hosts !== undefined ? "moor.yaml" : "hosts.yaml"
  for (const h of hosts ?? []) {
    for (const f of h.files) {
      const stat = fs.stat(f.path)
      const wrong = Result.isFailure(stat)
        ? `the certificate file ${f.path}: ${stat.failure}`
        : stat.success?.kind !== "file"
          ? `the certificate file ${f.path} does not exist: put it there, or correct the path (relative to the spec root)`
          : undefined
      if (wrong !== undefined) {
        missing.push({
          file: shown(nodePath.join(root, configFile)),
          line: f.line,
          column: f.column,
          path: f.key,
          message: `host ${h.host.name}: ${wrong}`
        })
      }
    }
  }
  if (missing.length > 0) return Result.fail(missing)
  return Result.succeed({
    ...(moor.success?.scope === undefined ? {} : { scope: moor.success.scope }),
    ...(hosts === undefined ? {} : { hosts }),
    ...(moor.success?.profiles === undefined ? {} : { profiles: moor.success.profiles })
  })
}
