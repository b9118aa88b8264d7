/**
 * What the Action reports, on the in-memory engine: outputs, the step's failure (app failed, spec
 * problems, fail-on-drift), annotations on the file and line of each spec problem, and the job summary.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { type ActionInputs, readInputs } from "../../runners/action/inputs.ts"
import { type ActionIO, runAction } from "../../runners/action/run.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A workspace with a spec directory `spec/` holding the given app files. */
const workspace = (apps: Record<string, string>): { workspace: string; spec: string } => {
  const ws = mkdtempSync(join(tmpdir(), "moor-action-unit-"))
  dirs.push(ws)
  const spec = join(ws, "spec")
  mkdirSync(spec)
  writeFileSync(join(spec, "moor.yaml"), "scope: unit\n")
  for (const [app, text] of Object.entries(apps)) {
    mkdirSync(join(spec, app))
    writeFileSync(join(spec, app, "compose.yaml"), text)
  }
  return { workspace: ws, spec }
}

const web = (image: string) => `services:\n  web:\n    image: ${image}\n    healthcheck:\n      disable: true\n`

interface Recorded {
  readonly lines: Array<string>
  readonly annotations: Array<{ kind: string; message: string; properties: unknown }>
  readonly outputs: Record<string, string>
  readonly summaries: Array<string>
  readonly failed: Array<string>
}

const recorder = (): { io: ActionIO; rec: Recorded } => {
  const rec: Recorded = { lines: [], annotations: [], outputs: {}, summaries: [], failed: [] }
  return {
    rec,
    io: {
      info: (t) => rec.lines.push(t),
      warning: (message, properties) => rec.annotations.push({ kind: "warning", message, properties }),
      error: (message, properties) => rec.annotations.push({ kind: "error", message, properties }),
      setOutput: (name, value) => {
        rec.outputs[name] = value
      },
      summary: (md) => Effect.sync(() => rec.summaries.push(md)),
      setFailed: (m) => rec.failed.push(m)
    }
  }
}

const inputs = (given: Record<string, string>): ActionInputs => {
  const r = readInputs((name) => given[name] ?? "")
  if (Result.isFailure(r)) throw new Error(r.failure)
  return r.success
}

/** One in-memory engine, repo and bus for a whole test: each run of the Action sees what the last one did. */
const engine = Layer.mergeAll(DockerMemory.layer(), Repo.layerMemory, Bus.layerMemory)

const act = (ws: { workspace: string; spec: string }, given: Record<string, string>) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<MemoryEngine | Repo | Bus | Docker>()
    const { io, rec } = recorder()
    yield* runAction(inputs({ spec: ws.spec, ...given }), io, {
      workspace: ws.workspace,
      services: () => Layer.succeedContext(context)
    }).pipe(Effect.provide(SpecLoader.layer))
    return rec
  })

describe("the Action on the in-memory engine", () => {
  it.live("plan: outputs the plan and changed=true, changes nothing, no run id", () =>
    Effect.gen(function* () {
      const ws = workspace({ shopweb: web("moor-fixture/app:1") })
      const rec = yield* act(ws, { mode: "plan" })
      expect(rec.failed).toEqual([])
      expect(rec.outputs.changed).toBe("true")
      expect(rec.outputs["run-id"]).toBe("")
      const plan = JSON.parse(rec.outputs.plan ?? "{}") as { scope: string; actions: Array<{ _tag: string }> }
      expect(plan.scope).toBe("unit")
      expect(plan.actions.map((a) => a._tag)).toEqual(["ensure-network", "create", "start"])
      const snapshot = yield* (yield* MemoryEngine).snapshot("local")
      expect(snapshot.containers).toEqual([])
      expect(rec.summaries).toHaveLength(1)
      expect(rec.outputs.summary).toBe(rec.summaries[0])
      expect(rec.summaries[0]).toContain(
        "| local | shopweb | + create | shopweb-web-1 (moor-fixture/app:1) | missing |"
      )
    }).pipe(Effect.provide(engine))
  )

  it.live("apply converges and outputs the run id; then plan says unchanged, and drift fails only when asked", () =>
    Effect.gen(function* () {
      const ws = workspace({ shopweb: web("moor-fixture/app:1") })
      const applied = yield* act(ws, { mode: "apply" })
      expect(applied.failed).toEqual([])
      expect(applied.outputs.changed).toBe("true")
      expect(applied.outputs["run-id"]).toMatch(/^r\d{8}-\d{6}-[0-9a-z]{4}$/)
      const runs = yield* (yield* Repo).listRuns({ scope: "unit", limit: 10 })
      expect(runs.map((r) => [r.id, r.trigger, r.status])).toEqual([
        [`${applied.outputs["run-id"]}-local`, "action", "succeeded"]
      ])
      expect(applied.summaries[0]).toContain("| Outcome |")
      expect(applied.summaries[0]).toContain("| local | shopweb | running | no changes |")

      const again = yield* act(ws, { mode: "plan", "fail-on-drift": "true" })
      expect([again.outputs.changed, again.failed]).toEqual(["false", []])

      writeFileSync(join(ws.spec, "shopweb", "compose.yaml"), web("moor-fixture/app:2"))
      const drift = yield* act(ws, { mode: "plan" })
      expect([drift.outputs.changed, drift.failed]).toEqual(["true", []])
      const strict = yield* act(ws, { mode: "plan", "fail-on-drift": "true" })
      expect(strict.outputs.changed).toBe("true")
      expect(strict.failed).toEqual([
        "drift: the hosts differ from the spec (1 change planned); apply the spec, or set fail-on-drift: false"
      ])
    }).pipe(Effect.provide(engine))
  )

  it.live("apps: only the apps named (and what they require) are planned; an unknown name fails at once", () =>
    Effect.gen(function* () {
      const ws = workspace({ aaweb: web("moor-fixture/app:1"), bbweb: web("moor-fixture/app:1") })
      const only = yield* act(ws, { mode: "plan", apps: "bbweb" })
      const plan = JSON.parse(only.outputs.plan ?? "{}") as { actions: Array<{ app: string }> }
      expect(new Set(plan.actions.map((a) => a.app))).toEqual(new Set(["bbweb"]))

      const typo = yield* act(ws, { mode: "apply", apps: "bbweb, ccweb" })
      expect(typo.failed).toEqual(['input "apps": no app "ccweb" in the spec (its apps: aaweb, bbweb)'])
      expect(typo.outputs).toEqual({})
      const snapshot = yield* (yield* MemoryEngine).snapshot("local")
      expect(snapshot.containers).toEqual([])
    }).pipe(Effect.provide(engine))
  )

  it.live("spec problems: one error annotation per problem on its file (relative to the workspace), then fail", () =>
    Effect.gen(function* () {
      const ws = workspace({
        goodapp: web("moor-fixture/app:1"),
        badapp: "services:\n  web:\n    image: moor-fixture/app:1\n    provider: { type: model }\n"
      })
      const rec = yield* act(ws, { mode: "plan" })
      expect(rec.annotations).toEqual([
        {
          kind: "error",
          message: expect.stringMatching(/^services\.web\.provider: moor does not support "provider"/),
          properties: { title: "moor: spec error", file: "spec/badapp/compose.yaml", startLine: 4, startColumn: 5 }
        }
      ])
      expect(rec.failed).toEqual(["the spec has 1 problem (see the annotations)"])
      // The valid app is still planned.
      expect(rec.outputs.changed).toBe("true")
    }).pipe(Effect.provide(engine))
  )

  it.live("a spec that cannot be loaded at all fails with its problems annotated, and no outputs", () =>
    Effect.gen(function* () {
      const ws = workspace({ goodapp: web("moor-fixture/app:1") })
      writeFileSync(join(ws.spec, "moor.yaml"), "scope: [unit\n")
      const rec = yield* act(ws, { mode: "plan" })
      expect(rec.annotations.map((a) => [a.kind, (a.properties as { file: string }).file])).toEqual([
        ["error", "spec/moor.yaml"]
      ])
      expect(rec.failed).toHaveLength(1)
      expect(rec.failed[0]).toContain("moor.yaml")
      expect(rec.outputs).toEqual({})
    }).pipe(Effect.provide(engine))
  )

  it.live("an app that fails to apply fails the step, naming the host and what failed", () =>
    Effect.gen(function* () {
      const ws = workspace({ brokenapp: web("moor-fixture/missing:1") })
      const rec = yield* act(ws, { mode: "apply", pull: "missing" })
      expect(rec.failed).toHaveLength(1)
      expect(rec.failed[0]).toMatch(/^host local: (failed|partial): /)
      expect(rec.summaries[0]).toMatch(/\| failed: /)
    }).pipe(Effect.provide(engine))
  )
})
