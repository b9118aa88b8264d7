/**
 * Decoding a desired state: total, never throws. A malformed top level is an error naming the path;
 * an app that fails validation becomes an `InvalidApp` (planned as a skip with the message) and the
 * rest of the apps go on.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { optionServiceRefs } from "./container-options.ts"
import { App, DEFAULT_HOST, Desired, type DesiredState, type Host, type InvalidApp } from "./model/desired.ts"
import { Observed } from "./model/observed.ts"
import { Plan } from "./model/plan.ts"
import { Policy } from "./model/policy.ts"
import { isMoorLabel } from "./names.ts"

export interface DecodeError {
  readonly _tag: "DecodeError"
  /** One line per problem: `at apps[0].services.web.image: Expected a string`. */
  readonly message: string
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, key) => {
    if (typeof key === "number") return `${acc}[${key}]`
    const k = String(key)
    return /^[A-Za-z_$][\w$-]*$/.test(k) ? (acc === "" ? k : `${acc}.${k}`) : `${acc}[${JSON.stringify(k)}]`
  }, "")

const toDecodeError = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey> = []): DecodeError => {
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues.map((i) => ({
    path: formatPath([...prefix, ...(i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))]),
    message: i.message
  }))
  return {
    _tag: "DecodeError",
    issues,
    message: issues.map((i) => (i.path === "" ? i.message : `at ${i.path}: ${i.message}`)).join("\n")
  }
}

/** Decodes with every issue reported, as a `DecodeError`. */
export const decodeWith =
  <S extends Schema.Codec<unknown, unknown>>(schema: S) =>
  (input: unknown, prefix: ReadonlyArray<PropertyKey> = []): Result.Result<S["Type"], DecodeError> =>
    Result.mapError(
      Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"], unknown>)(input, { errors: "all" }),
      (e) => toDecodeError(e.issue, prefix)
    )

export const decodeObserved = decodeWith(Observed)
export const decodePolicy = decodeWith(Policy)
export const decodePlan = decodeWith(Plan)
export const encodePlan = (plan: Plan): unknown => Schema.encodeSync(Plan)(plan)

const decodeApp = decodeWith(App)

/** Rules a single app must follow beyond its shape. Returns the problems, empty when the app is valid. */
export const validateApp = (app: App, hosts: ReadonlyArray<Host>): Array<string> => {
  const problems: Array<string> = []
  const services = Object.keys(app.services)
  if (services.length === 0) problems.push(`app ${app.name} has no services`)
  const hostNames = new Set(hosts.map((h) => h.name))
  for (const host of app.hosts ?? []) {
    if (!hostNames.has(host))
      problems.push(`x-moor.hosts: host ${host} is not declared (declared: ${[...hostNames].join(", ")})`)
  }
  for (const name of services.sort()) {
    const s = app.services[name]!
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) problems.push(`services.${name}: invalid service name`)
    for (const [dep] of Object.entries(s.dependsOn ?? {})) {
      if (app.services[dep] === undefined)
        problems.push(`services.${name}.depends_on: service ${dep} is not defined in app ${app.name}`)
      if (dep === name) problems.push(`services.${name}.depends_on: a service cannot depend on itself`)
    }
    for (const [key, ref] of optionServiceRefs(s.options))
      if (app.services[ref] === undefined || ref === name)
        problems.push(
          `services.${name}.${key}: ${ref === name ? "a service cannot name itself" : `service ${ref} is not defined in app ${app.name}`}`
        )
    for (const m of s.mounts ?? []) {
      if (m.type === "volume" && m.source !== undefined && app.volumes?.[m.source] === undefined) {
        problems.push(
          `services.${name}.volumes: volume ${m.source} is not declared in the top-level volumes of app ${app.name}`
        )
      }
      if (m.type === "bind" && (m.source === undefined || !m.source.startsWith("/"))) {
        problems.push(
          `services.${name}.volumes: bind mount source must be an absolute path (got ${m.source ?? "nothing"})`
        )
      }
    }
    for (const net of Object.keys(s.networks ?? {})) {
      if (net !== "default" && app.networks?.[net] === undefined) {
        problems.push(
          `services.${name}.networks: network ${net} is not declared in the top-level networks of app ${app.name}`
        )
      }
    }
    for (const key of Object.keys(s.labels ?? {})) {
      if (isMoorLabel(key)) problems.push(`services.${name}.labels: ${key} is in moor's own label namespace (moor.*)`)
    }
    const published = new Set<string>()
    for (const p of s.ports ?? []) {
      if (p.published === undefined) continue
      const key = `${p.hostIp ?? ""}:${p.published}/${p.protocol ?? "tcp"}`
      if (published.has(key)) problems.push(`services.${name}.ports: host port ${p.published} is published twice`)
      published.add(key)
    }
  }
  const cycle = findCycle(services, (s) => Object.keys(app.services[s]?.dependsOn ?? {}))
  if (cycle !== undefined) problems.push(`depends_on cycle: ${cycle.join(" -> ")}`)
  return problems
}

/** The first cycle found by depth-first search in sorted order, as a path that ends where it starts. */
export const findCycle = (
  nodes: ReadonlyArray<string>,
  edges: (node: string) => ReadonlyArray<string>
): Array<string> | undefined => {
  const known = new Set(nodes)
  const state = new Map<string, 1 | 2>()
  const stack: Array<string> = []
  const visit = (node: string): Array<string> | undefined => {
    const s = state.get(node)
    if (s === 2) return undefined
    if (s === 1) return [...stack.slice(stack.indexOf(node)), node]
    state.set(node, 1)
    stack.push(node)
    for (const next of [...edges(node)].sort()) {
      if (!known.has(next)) continue
      const found = visit(next)
      if (found !== undefined) return found
    }
    stack.pop()
    state.set(node, 2)
    return undefined
  }
  for (const node of [...nodes].sort()) {
    const found = visit(node)
    if (found !== undefined) return found
  }
  return undefined
}

const appNameOf = (raw: unknown, index: number): string => {
  if (raw !== null && typeof raw === "object" && typeof (raw as { name?: unknown }).name === "string") {
    return (raw as { name: string }).name
  }
  return `apps[${index}]`
}
const appHostsOf = (raw: unknown): ReadonlyArray<string> | undefined => {
  const hosts = raw !== null && typeof raw === "object" ? (raw as { hosts?: unknown }).hosts : undefined
  return Array.isArray(hosts) && hosts.every((h) => typeof h === "string") ? hosts : undefined
}

/** Decodes a desired state. Only a malformed top level (scope, hosts, the apps list itself) fails. */
export const decodeDesired = (input: unknown): Result.Result<DesiredState, DecodeError> =>
  Result.map(decodeWith(Desired)(input), (top) => {
    const hosts = top.hosts === undefined || top.hosts.length === 0 ? [{ name: DEFAULT_HOST }] : top.hosts
    const apps: Array<App> = []
    const invalid: Array<InvalidApp> = []
    const seen = new Set<string>()
    top.apps.forEach((raw, index) => {
      const name = appNameOf(raw, index)
      const rawHosts = appHostsOf(raw)
      const problem = (): string | undefined => {
        if (seen.has(name)) return `app ${name} is declared twice`
        seen.add(name)
        const decoded = decodeApp(raw, ["apps", index])
        if (Result.isFailure(decoded)) return decoded.failure.message
        const problems = validateApp(decoded.success, hosts)
        if (problems.length > 0) return problems.join("\n")
        apps.push(decoded.success)
        return undefined
      }
      const message = problem()
      if (message !== undefined) invalid.push({ name, message, ...(rawHosts === undefined ? {} : { hosts: rawHosts }) })
    })
    apps.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    invalid.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return { scope: top.scope, hosts, apps, invalid, unreadable: [] }
  })
