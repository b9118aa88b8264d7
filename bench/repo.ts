/**
 * The state repository's overhead per reconcile pass: create a run, record 10 actions, sync 5 app
 * states, finish the run. Median of 50 passes after 5 warm-up passes, on a SQLite file
 * (`repo_pass_sqlite_ms`) and on PostgreSQL at MOOR_TEST_PG_URL (`repo_pass_pg_ms`, in a schema of its
 * own, dropped afterwards; left out with a note on stderr when the server does not answer).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { Repo, type RepoError, type RunActionInput } from "../adapters/repo/Repo.ts"
import { dropTestSchemas, requirePg, uniqueSchema, urlWithSchema } from "../test/support/repo/pg.ts"
import { median } from "./stats.ts"

const PASSES = 50
const WARMUP = 5
const apps = ["api", "web", "worker", "cache", "db"]

const pass = (i: number) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    const id = `bench-${i}`
    const t = 1_000_000 + i * 1000
    yield* repo.createRun({ id, trigger: "watch", scope: "bench", host: "web-1", holder: "bench", startedAt: t })
    yield* repo.setRunStatus(id, { status: "running" })
    const actions: Array<RunActionInput> = Array.from({ length: 10 }, (_, k) => ({
      actionId: `a${k}`,
      kind: k % 2 === 0 ? "recreate" : "wait-healthy",
      host: "web-1",
      app: apps[k % apps.length]!,
      service: `svc${k}`,
      reason: "image moor-fixture/app:1 -> :2",
      outcome: "done",
      startedAt: t + k,
      finishedAt: t + k + 1
    }))
    yield* repo.recordActions(id, actions)
    // Alternate states so that every pass really updates rows.
    const state = i % 2 === 0 ? "running" : "degraded"
    yield* repo.syncAppStates(
      "bench",
      "web-1",
      { specApps: apps, observed: apps.map((app) => ({ app, state, specHash: `h${i % 3}` })) },
      t
    )
    yield* repo.setRunStatus(id, { status: "succeeded", at: t + 500 })
  })

const measure = async (layer: Layer.Layer<Repo, RepoError>): Promise<number> => {
  const runtime = ManagedRuntime.make(layer)
  try {
    const times: Array<number> = []
    for (let i = 0; i < WARMUP + PASSES; i++) {
      const t0 = performance.now()
      await runtime.runPromise(pass(i))
      if (i >= WARMUP) times.push(performance.now() - t0)
    }
    return median(times)
  } finally {
    await runtime.dispose()
  }
}

export const run = async (): Promise<Array<[name: string, value: number]>> => {
  const out: Array<[string, number]> = []
  const dir = mkdtempSync(join(tmpdir(), "moor-bench-repo-"))
  try {
    out.push(["repo_pass_sqlite_ms", await measure(Repo.layerSqlite(join(dir, "state.db")))])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await requirePg()
  } catch (e) {
    console.error(`repo_pass_pg_ms skipped: ${(e as Error).message}`)
    return out
  }
  try {
    out.push(["repo_pass_pg_ms", await measure(Repo.layerFromUrl(urlWithSchema(uniqueSchema())))])
  } finally {
    await dropTestSchemas()
  }
  return out
}

if (import.meta.main) for (const [name, value] of await run()) console.log(`${name} ${value.toFixed(2)}`)
