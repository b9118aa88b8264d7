/**
 * Loading a scenario directory: `scenario.yaml` decoded (a mistake is reported with its file, line
 * and field), `${P}` and `${SCOPE}` filled in, and every spec directory its passes name loaded with
 * the real spec loader (with `P` in the environment, so the Compose files interpolate it).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { Data, Effect, Result } from "effect"
import { parseDocument } from "yaml"
import { SpecLoader, toDesiredState, formatProblem, withScope } from "../../adapters/spec/SpecLoader.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { makePolicy, type Policy } from "../../core/model/policy.ts"
import { decodeScenarioFile } from "./scenario-decode.ts"
import type { HookDouble, Step } from "./scenario-format.ts"

export const SCENARIOS_DIR = join(import.meta.dirname, "..", "..", "scenarios")
/** The host ports scenarios may publish. */
export const PORT_RANGE = { min: 19000, max: 19199 } as const

export class ScenarioError extends Data.TaggedError("ScenarioError")<{ readonly message: string }> {}

/** Names a scenario is run under: app names start with `prefix`, moor's scope is `scope`. */
export interface ScenarioVars {
  readonly prefix: string
  readonly scope: string
}

export interface Scenario {
  readonly name: string
  readonly dir: string
  readonly description: string
  /** A known bug the scenario shows (it is expected to fail). */
  readonly bug: string | undefined
  readonly vars: ScenarioVars
  readonly policy: Policy
  readonly steps: ReadonlyArray<Step>
  /** Desired states by spec directory name. */
  readonly specs: ReadonlyMap<string, DesiredState>
  /** Hook scripts (content) and how the in-memory engine plays them. */
  readonly hooks: ReadonlyArray<{ readonly content: string; readonly double: HookDouble }>
}

/** Scenario directories (`NN-name`), sorted. */
export const listScenarios = (root = SCENARIOS_DIR): ReadonlyArray<string> =>
  readdirSync(root)
    .filter((d) => /^\d\d-[a-z0-9-]+$/.test(d) && statSync(join(root, d)).isDirectory())
    .sort()

/** The names of scenario `name` (`07-app-removed`) in a test run identified by `token` (a few hex digits). */
export const scenarioVars = (name: string, token: string): ScenarioVars => {
  const nn = name.slice(0, 2)
  return { prefix: `s${token}-${nn}`, scope: `scn-${token}-${nn}` }
}

/** The `bug:` note of a scenario (read when tests are collected, to name and expect them). */
export const knownBug = (name: string, root = SCENARIOS_DIR): string | undefined => {
  const doc = parseDocument(readFileSync(join(root, name, "scenario.yaml"), "utf8"))
  const bug = doc.get("bug")
  return typeof bug === "string" ? bug : undefined
}

/** `${P}` and `${SCOPE}` in every string; other `${...}` are left for later (hook environments). */
const fill = <A>(value: A, vars: ScenarioVars): A => {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.replaceAll("${P}", vars.prefix).replaceAll("${SCOPE}", vars.scope)
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k), walk(x)]))
    return v
  }
  return walk(value) as A
}

/**
 * The scenario with the host ports its specs publish on 127.0.0.1 published on `address` instead: an
 * engine in a network namespace of its own publishes there (its 127.0.0.1 is not this machine's).
 */
export const publishedOn = (scenario: Scenario, address: string): Scenario => {
  if (address === "127.0.0.1") return scenario
  const move = (desired: DesiredState): DesiredState => ({
    ...desired,
    apps: desired.apps.map((app) => ({
      ...app,
      services: Object.fromEntries(
        Object.entries(app.services).map(([name, s]) => [
          name,
          s.ports === undefined
            ? s
            : { ...s, ports: s.ports.map((p) => (p.hostIp === "127.0.0.1" ? { ...p, hostIp: address } : p)) }
        ])
      )
    }))
  })
  return { ...scenario, specs: new Map([...scenario.specs].map(([name, d]) => [name, move(d)])) }
}

const specsOf = (steps: ReadonlyArray<Step>): ReadonlyArray<string> => [
  ...new Set(steps.flatMap((s) => ("pass" in s ? [s.pass] : [])))
]

const publishedPorts = (d: DesiredState): ReadonlyArray<number> =>
  d.apps.flatMap((a) => Object.values(a.services).flatMap((s) => (s.ports ?? []).flatMap((p) => p.published ?? [])))

export const loadScenario = (name: string, vars: ScenarioVars, root = SCENARIOS_DIR) =>
  Effect.gen(function* () {
    const dir = join(root, name)
    const file = relative(process.cwd(), join(dir, "scenario.yaml"))
    const text = yield* Effect.try({
      try: () => readFileSync(join(dir, "scenario.yaml"), "utf8"),
      catch: (e) => new ScenarioError({ message: `${file}: cannot be read: ${String(e)}` })
    })
    const decoded = decodeScenarioFile(file, text)
    if (Result.isFailure(decoded)) return yield* new ScenarioError({ message: decoded.failure })
    const scenario = fill(decoded.success, vars)
    const loader = yield* SpecLoader
    const specs = new Map<string, DesiredState>()
    for (const spec of specsOf(scenario.steps)) {
      const where = relative(process.cwd(), join(dir, spec))
      const loaded = yield* loader
        .load(join(dir, spec), { env: { P: vars.prefix } })
        .pipe(Effect.mapError((e) => new ScenarioError({ message: `${where}: ${e.message}` })))
      if (loaded.problems.length > 0)
        return yield* new ScenarioError({ message: loaded.problems.map(formatProblem).join("\n") })
      const desired = toDesiredState(withScope(loaded, vars.scope))
      if (Result.isFailure(desired))
        return yield* new ScenarioError({ message: `${where}: ${desired.failure.message}` })
      const outside = publishedPorts(desired.success).filter((p) => p < PORT_RANGE.min || p > PORT_RANGE.max)
      if (outside.length > 0)
        return yield* new ScenarioError({
          message: `${where}: host ports ${outside.join(", ")} are outside the scenarios' range ${PORT_RANGE.min}-${PORT_RANGE.max}`
        })
      specs.set(spec, desired.success)
    }
    const doubles = scenario.fake?.hooks ?? {}
    const hooks: Array<{ content: string; double: HookDouble }> = []
    const known = new Set<string>()
    for (const desired of specs.values())
      for (const app of desired.apps)
        for (const req of app.requires ?? []) {
          const hook = req.onStart
          if (hook?.content === undefined) continue
          known.add(hook.script)
          const double = doubles[hook.script]
          if (double !== undefined) hooks.push({ content: hook.content, double })
        }
    const unknown = Object.keys(doubles).filter((s) => !known.has(s))
    if (unknown.length > 0)
      return yield* new ScenarioError({
        message: `${file}: fake.hooks names scripts no on_start uses: ${unknown.join(", ")} (used: ${[...known].join(", ") || "none"})`
      })
    return {
      name,
      dir,
      description: scenario.description,
      bug: scenario.bug,
      vars,
      policy: makePolicy(scenario.policy ?? {}),
      steps: scenario.steps,
      specs,
      hooks
    } satisfies Scenario
  }).pipe(Effect.provide(SpecLoader.layer))
