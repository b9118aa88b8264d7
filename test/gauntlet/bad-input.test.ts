/**
 * The gauntlet's bad-input section: every malformed spec of test/fixtures/bad-specs, through the
 * loader and the planner in-process, then through `moor plan` and `moor apply` as real processes
 * (the CLI bundled from the current sources, as `bin/moor.js` runs it) against the real engine. Each case must give an error naming the file, the place, the key and
 * what to do (as its expect.json says); refuse the whole spec (exit 1, nothing planned) or leave
 * out only the bad apps; never crash (no stack trace, no exit code but 0, 1, 2); and change nothing
 * on the engine but the valid apps an `apply` creates. Each case runs in a scope of its own
 * (`gauntlet-bad-<token>-<n>`); host ports 19800-19849.
 */
import { randomBytes } from "node:crypto"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { formatProblem, SpecLoader, toDesiredState } from "../../adapters/spec/SpecLoader.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { plan } from "../../core/plan/plan.ts"
import { buildCli, type Cli, crashOf, type Exited, limiter, runMoor } from "../support/bad-input-cli.ts"
import { type BadCase, clearLine, loadCorpus, materialize, sameSet } from "../support/bad-input-corpus.ts"
import { cleanupScopesStartingWith, type EngineObject, snapshotScope } from "../support/bad-input-engine.ts"
import { cleanupScope, requireFixtures } from "../support/docker-e2e.ts"
import { summary } from "../support/gauntlet.ts"

const cases = loadCorpus()
const token = randomBytes(3).toString("hex")
const scopePrefix = `gauntlet-bad-${token}`
const scopeOf = (i: number) => `${scopePrefix}-${String(i).padStart(2, "0")}`

/** What each case got wrong, by stage; a case is clear when every stage ran and found nothing. */
const verdicts = new Map<string, Map<string, ReadonlyArray<string>>>()
const crashes: Array<string> = []
const engineChanges: Array<string> = []
const record = (slug: string, stage: string, complaints: ReadonlyArray<string>) => {
  const v = verdicts.get(slug) ?? new Map<string, ReadonlyArray<string>>()
  v.set(stage, complaints)
  verdicts.set(slug, v)
}
const STAGES = ["loader+planner", "cli plan", "cli apply"]

afterAll(async () => {
  await cleanupScopesStartingWith(scopePrefix)
  const clear = cases.filter((c) => STAGES.every((s) => verdicts.get(c.slug)?.get(s)?.length === 0)).length
  summary(
    `bad_input ${clear}/${cases.length} clear errors, ${crashes.length} crashes, ${engineChanges.length} engine changes`
  )
  for (const c of cases) {
    for (const [stage, complaints] of verdicts.get(c.slug) ?? []) {
      if (complaints.length > 0) console.log(`  ${c.slug} (${stage}): ${complaints.join("; ")}`)
    }
  }
})

describe("in-process: the loader and the planner", () => {
  const emptyHosts = (hosts: ReadonlyArray<{ readonly name: string }>) =>
    hosts.map((h) => ({ _tag: "Known" as const, host: h.name, containers: [], volumes: [], networks: [], images: [] }))

  it.each(cases)("$slug: $expect.what", async (c: BadCase) => {
    const m = materialize(c)
    try {
      const e = c.expect
      const loaded = await Effect.runPromise(
        SpecLoader.use((l) => l.load(m.spec)).pipe(
          Effect.result,
          Effect.provide(SpecLoader.layerWith({ env: { HOME: "/root" } }))
        )
      )
      const complaints: Array<string> = []
      if (e.outcome === "refused") {
        if (Result.isSuccess(loaded)) complaints.push("the spec loaded: it should have been refused")
        else {
          const err = loaded.failure
          const text = err.problems.length > 0 ? err.problems.map(formatProblem).join("\n") : err.message
          complaints.push(...clearLine(text, e, m.root))
        }
      } else if (Result.isFailure(loaded)) {
        complaints.push(`the whole spec was refused (${loaded.failure.message}): only the bad apps should be`)
      } else {
        const spec = { ...loaded.success, scope: "gauntlet-bad-unit" }
        complaints.push(...clearLine(spec.problems.map(formatProblem).join("\n"), e, m.root))
        complaints.push(
          ...sameSet("apps left out by the loader", new Set(spec.invalid.map((a) => a.name)), e.skipped ?? [])
        )
        complaints.push(
          ...sameSet(
            "apps loaded",
            spec.input.apps.map((a) => String(a.name)),
            e.planned ?? []
          )
        )
        const desired = toDesiredState(spec)
        if (Result.isFailure(desired)) complaints.push(`the loaded spec does not decode: ${desired.failure.message}`)
        else {
          const p = plan(desired.success, { now: 0, hosts: emptyHosts(desired.success.hosts) }, makePolicy())
          const skips = p.actions.filter((a) => a._tag === "skip")
          complaints.push(
            ...sameSet(
              "apps the plan skips",
              skips.map((a) => a.app),
              e.skipped ?? []
            )
          )
          complaints.push(
            ...sameSet(
              "apps the plan acts on",
              p.actions.filter((a) => a._tag !== "skip").map((a) => a.app),
              e.planned ?? []
            )
          )
          const reasons = skips.map((a) => ("reason" in a ? String(a.reason) : "")).join("\n")
          complaints.push(...clearLine(reasons, e, m.root).map((x) => `the plan's skip reason: ${x}`))
        }
      }
      record(c.slug, "loader+planner", complaints)
      expect(complaints).toEqual([])
    } catch (err) {
      if (!verdicts.get(c.slug)?.has("loader+planner")) {
        crashes.push(`${c.slug}: loader+planner threw ${String(err)}`)
        record(c.slug, "loader+planner", [`threw: ${String(err)}`])
      }
      throw err
    } finally {
      m.remove()
    }
  })
})

interface CliRun {
  readonly scope: string
  readonly root: string
  readonly plan: Exited
  readonly apply: Exited
  readonly before: ReadonlyArray<EngineObject>
  readonly afterPlan: ReadonlyArray<EngineObject>
  readonly afterApply: ReadonlyArray<EngineObject>
}

const runCase = async (cli: Cli, c: BadCase, scope: string): Promise<CliRun> => {
  const m = materialize(c)
  try {
    const args = (command: string) => [command, m.spec, "--scope", scope, "--repo", "memory"]
    const before = await snapshotScope(scope)
    const planned = await runMoor(cli, args("plan"))
    const afterPlan = await snapshotScope(scope)
    const applied = await runMoor(cli, args("apply"))
    const afterApply = await snapshotScope(scope)
    return { scope, root: m.root, plan: planned, apply: applied, before, afterPlan, afterApply }
  } finally {
    await cleanupScope(scope)
    m.remove()
  }
}

const show = (objects: ReadonlyArray<EngineObject>) => objects.map((o) => `${o.kind} ${o.name}`).join(", ")

describe("the CLI: moor plan and moor apply as processes, on the real engine", () => {
  // A case is two CLI starts (~0.3 s of CPU each, bundled) and the engine calls they wait for
  // (creating and removing the valid apps): four cases at a time keep two cores busy.
  const CASES_AT_ONCE = 4
  const pool = limiter(CASES_AT_ONCE)
  let t0 = 0
  let cli: Cli | undefined

  beforeAll(async () => {
    await requireFixtures()
    cli = await buildCli()
    t0 = performance.now()
  })
  afterAll(() => {
    cli?.remove()
    const s = ((performance.now() - t0) / 1000).toFixed(1)
    console.log(`bad_input cli: ${cases.length * 2} processes in ${s} s (${CASES_AT_ONCE} cases at a time)`)
  })

  const checkRun = (c: BadCase, command: "plan" | "apply", run: CliRun): Array<string> => {
    const e = c.expect
    const r = run[command]
    const complaints: Array<string> = []
    const crash = crashOf(r)
    if (crash !== undefined) {
      crashes.push(`${c.slug}: moor ${command}: ${crash}`)
      complaints.push(`crashed: ${crash}\n${r.stderr}`)
    }
    complaints.push(...clearLine(r.stderr, e, run.root).map((x) => `stderr: ${x}`))
    const after = command === "plan" ? run.afterPlan : run.afterApply
    if (e.outcome === "refused") {
      if (r.code !== 1) complaints.push(`exit code ${r.code}, expected 1`)
      if (/^Plan:|^ +\+ create /m.test(r.stdout)) complaints.push(`something was planned:\n${r.stdout}`)
      if (show(after) !== show(run.before)) {
        engineChanges.push(`${c.slug}: moor ${command} created ${show(after)}`)
        complaints.push(`the engine changed: ${show(after)}`)
      }
      return complaints
    }
    if (r.code === null || ![0, 1, 2].includes(r.code)) complaints.push(`exit code ${r.code}, expected 0, 1 or 2`)
    if (command === "plan") {
      for (const app of e.skipped ?? [])
        if (!r.stdout.includes(`skip ${app} (`)) complaints.push(`the plan does not skip ${app}`)
      for (const app of e.planned ?? [])
        if (!new RegExp(`create ${app}-[a-z]+-1 `).test(r.stdout)) complaints.push(`the plan does not create ${app}`)
    }
    const stray = command === "plan" ? after : after.filter((o) => !(e.planned ?? []).includes(o.app))
    if (stray.length > 0) {
      engineChanges.push(`${c.slug}: moor ${command} created ${show(stray)}`)
      complaints.push(`the engine changed beyond the valid apps: ${show(stray)}`)
    }
    if (command === "apply") {
      const created = new Set(after.filter((o) => o.kind === "container").map((o) => o.app))
      for (const app of e.planned ?? [])
        if (!created.has(app)) complaints.push(`apply did not create the valid app ${app}:\n${r.stdout}\n${r.stderr}`)
    }
    return complaints
  }

  it.concurrent.each(cases.map((c, i) => ({ ...c, i })))("moor plan, moor apply: $slug", async (c) => {
    if (cli === undefined) throw new Error("the CLI was not built")
    const built = cli
    const run = await pool(() => runCase(built, c, scopeOf(c.i)))
    const complaints: Array<string> = []
    for (const command of ["plan", "apply"] as const) {
      const found = checkRun(c, command, run)
      record(c.slug, `cli ${command}`, found)
      complaints.push(...found.map((x) => `moor ${command}: ${x}`))
    }
    expect(complaints).toEqual([])
  })
})
