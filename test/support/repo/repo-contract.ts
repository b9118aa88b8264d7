/**
 * The repository's contract, one test body run against every backend (SQLite in memory and on a
 * file in the unit tests, SQLite and PostgreSQL in the e2e tests). `fresh` gives an empty repository
 * each time it is built. Time runs on the TestClock (`it.effect`), which starts at 0.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  type NewRun,
  Repo,
  type RepoError,
  type RepoOptions,
  type RunActionInput
} from "../../../adapters/repo/Repo.ts"

const run = (id: string, extra: Partial<NewRun> = {}): NewRun => ({
  id,
  trigger: "cli",
  scope: "shop",
  host: "web-1",
  startedAt: 1_000,
  ...extra
})

const action = (actionId: string, extra: Partial<RunActionInput> = {}): RunActionInput => ({
  actionId,
  kind: "create",
  host: "web-1",
  app: "shop",
  service: "api",
  reason: "missing",
  outcome: "done",
  startedAt: 100,
  finishedAt: 350,
  ...extra
})

export const repoContract = (name: string, fresh: (options?: RepoOptions) => Layer.Layer<Repo, RepoError>): void => {
  const test = (title: string, body: Effect.Effect<void, unknown, Repo>, options?: RepoOptions) =>
    it.effect(title, () => body.pipe(Effect.provide(fresh(options))))

  describe(`Repo contract: ${name}`, () => {
    test(
      "ping answers",
      Effect.gen(function* () {
        const repo = yield* Repo
        yield* repo.ping
      })
    )

    describe("runs", () => {
      test(
        "a created run is read back with its fields",
        Effect.gen(function* () {
          const repo = yield* Repo
          const created = yield* repo.createRun(run("r1", { holder: "p1", planSummary: '{"actions":3}' }))
          const detail = yield* repo.getRun("r1")
          assert.deepStrictEqual(detail, { run: created, actions: [] })
          expect(created).toMatchObject({
            status: "pending",
            holder: "p1",
            planSummary: '{"actions":3}',
            startedAt: 1000
          })
          assert.isUndefined(yield* repo.getRun("nope"))
        })
      )

      test(
        "a run id used twice is refused",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1"))
          const error = yield* Effect.flip(repo.createRun(run("r1", { scope: "other" })))
          expect(error.kind).toBe("conflict")
          expect(error.message).toContain('"r1" already exists')
        })
      )

      test(
        "listRuns: newest first, filtered by scope and host, limited",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("old", { startedAt: 1 }))
          yield* repo.createRun(run("new", { startedAt: 3 }))
          yield* repo.createRun(run("mid", { startedAt: 2 }))
          yield* repo.createRun(run("elsewhere", { startedAt: 4, host: "web-2" }))
          yield* repo.createRun(run("blog", { startedAt: 5, scope: "blog" }))
          const ids = (runs: ReadonlyArray<{ readonly id: string }>) => runs.map((r) => r.id)
          expect(ids(yield* repo.listRuns({ limit: 10 }))).toEqual(["blog", "elsewhere", "new", "mid", "old"])
          expect(ids(yield* repo.listRuns({ scope: "shop", host: "web-1", limit: 10 }))).toEqual(["new", "mid", "old"])
          expect(ids(yield* repo.listRuns({ scope: "shop", limit: 2 }))).toEqual(["elsewhere", "new"])
          expect(ids(yield* repo.listRuns({ host: "web-2", limit: 10 }))).toEqual(["elsewhere"])
          const bad = yield* Effect.flip(repo.listRuns({ limit: 0 }))
          expect(bad.kind).toBe("invalid")
          expect(bad.message).toContain("limit")
        })
      )

      test(
        "pending -> running -> succeeded records the finish time given",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1"))
          const running = yield* repo.setRunStatus("r1", { status: "running" })
          expect(running).toMatchObject({ status: "running", finishedAt: undefined })
          const done = yield* repo.setRunStatus("r1", { status: "succeeded", at: 9_000, planSummary: "{}" })
          expect(done).toMatchObject({ status: "succeeded", finishedAt: 9_000, planSummary: "{}" })
          expect((yield* repo.getRun("r1"))?.run).toEqual(done)
        })
      )

      test(
        "an end status without a time takes the clock's",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1", { status: "running" }))
          yield* TestClock.adjust("42 seconds")
          const failed = yield* repo.setRunStatus("r1", { status: "failed", error: "engine unreachable" })
          expect(failed).toMatchObject({ status: "failed", finishedAt: 42_000, error: "engine unreachable" })
        })
      )

      test(
        "illegal transitions are refused with a clear error, and change nothing",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1"))
          const early = yield* Effect.flip(repo.setRunStatus("r1", { status: "partial" }))
          expect(early.kind).toBe("illegal-transition")
          expect(early.message).toContain("cannot go from pending to partial")
          yield* repo.setRunStatus("r1", { status: "running" })
          yield* repo.setRunStatus("r1", { status: "failed", error: "boom", at: 5 })
          for (const status of ["running", "succeeded", "failed", "pending"] as const) {
            const error = yield* Effect.flip(repo.setRunStatus("r1", { status }))
            expect(error.kind).toBe("illegal-transition")
            expect(error.message).toContain(`cannot go from failed to ${status}`)
            expect(error.message).toContain("already ended as failed (boom)")
          }
          expect((yield* repo.getRun("r1"))?.run).toMatchObject({ status: "failed", error: "boom", finishedAt: 5 })
          const missing = yield* Effect.flip(repo.setRunStatus("ghost", { status: "running" }))
          expect(missing.kind).toBe("not-found")
        })
      )

      test(
        "error text is capped at 2000 characters, on runs and on actions",
        Effect.gen(function* () {
          const repo = yield* Repo
          const long = `${"x".repeat(1990)}THE-END-IS-CUT${"y".repeat(3000)}`
          yield* repo.createRun(run("r1", { status: "running" }))
          const failed = yield* repo.setRunStatus("r1", { status: "failed", error: long })
          expect(failed.error?.length).toBe(2000)
          expect(failed.error).toMatch(/^x{1900}/)
          expect(failed.error).toMatch(/truncated\]$/)
          yield* repo.recordActions("r1", [action("a1", { outcome: "failed", error: long })])
          const stored = (yield* repo.getRun("r1"))?.actions[0]?.error
          expect(stored?.length).toBe(2000)
          expect(stored).not.toContain("THE-END")
          const short = "exit code 3"
          yield* repo.recordActions("r1", [action("a2", { outcome: "failed", error: short })])
          expect((yield* repo.getRun("r1"))?.actions[1]?.error).toBe(short)
        })
      )
    })

    describe("run actions", () => {
      test(
        "actions come back in recorded order, with durations",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1", { status: "running" }))
          yield* repo.recordActions("r1", [
            action("net", { kind: "ensure-network", service: undefined, startedAt: 10, finishedAt: 12 }),
            action("create-api", { startedAt: 12, finishedAt: 40 })
          ])
          yield* repo.recordActions("r1", [action("wait-api", { kind: "wait-healthy", outcome: "skipped" })])
          const actions = (yield* repo.getRun("r1"))?.actions ?? []
          expect(actions.map((a) => a.actionId)).toEqual(["net", "create-api", "wait-api"])
          expect(actions[0]).toEqual({
            runId: "r1",
            actionId: "net",
            kind: "ensure-network",
            host: "web-1",
            app: "shop",
            service: undefined,
            reason: "missing",
            outcome: "done",
            error: undefined,
            startedAt: 10,
            finishedAt: 12,
            durationMs: 2
          })
          expect(actions[1]?.durationMs).toBe(28)
          expect(actions[2]?.outcome).toBe("skipped")
        })
      )

      test(
        "recording an action again replaces its outcome and keeps its place",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("r1", { status: "running" }))
          yield* repo.recordActions("r1", [action("a"), action("b", { outcome: "failed", error: "timeout" })])
          yield* repo.recordActions("r1", [action("b", { outcome: "done" }), action("c")])
          const actions = (yield* repo.getRun("r1"))?.actions ?? []
          expect(actions.map((a) => [a.actionId, a.outcome, a.error])).toEqual([
            ["a", "done", undefined],
            ["b", "done", undefined],
            ["c", "done", undefined]
          ])
        })
      )

      test(
        "actions of an unknown run are refused",
        Effect.gen(function* () {
          const repo = yield* Repo
          const error = yield* Effect.flip(repo.recordActions("ghost", [action("a")]))
          expect(error.kind).toBe("not-found")
          expect(error.message).toContain('no run "ghost"')
        })
      )

      test(
        "a few hundred actions are recorded in one call",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.createRun(run("big", { status: "running" }))
          yield* repo.recordActions(
            "big",
            Array.from({ length: 450 }, (_, i) => action(`a${String(i).padStart(3, "0")}`))
          )
          const actions = (yield* repo.getRun("big"))?.actions ?? []
          expect(actions.length).toBe(450)
          expect(actions[449]?.actionId).toBe("a449")
        })
      )
    })

    describe("app states (three-way sync through the repo)", () => {
      const observed = (app: string, state: "running" | "degraded" | "failed" | "pending", specHash = "h1") => ({
        app,
        state,
        specHash
      })

      test(
        "repo behind engine: observed apps are inserted",
        Effect.gen(function* () {
          const repo = yield* Repo
          const transitions = yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: ["api", "web"], observed: [observed("web", "running"), observed("api", "pending")] },
            1_000
          )
          expect(transitions).toEqual([
            { app: "api", from: undefined, to: "pending" },
            { app: "web", from: undefined, to: "running" }
          ])
          expect(yield* repo.appStates("shop", "web-1")).toEqual([
            { scope: "shop", host: "web-1", app: "api", state: "pending", specHash: "h1", changedAt: 1_000 },
            { scope: "shop", host: "web-1", app: "web", state: "running", specHash: "h1", changedAt: 1_000 }
          ])
        })
      )

      test(
        "state changed: updated with the new time; unchanged rows keep theirs",
        Effect.gen(function* () {
          const repo = yield* Repo
          const spec = ["api", "web"]
          yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: spec, observed: [observed("api", "running"), observed("web", "running")] },
            1_000
          )
          const transitions = yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: spec, observed: [observed("api", "degraded"), observed("web", "running")] },
            2_000
          )
          expect(transitions).toEqual([{ app: "api", from: "running", to: "degraded" }])
          const rows = yield* repo.appStates("shop", "web-1")
          expect(rows.map((r) => [r.app, r.state, r.changedAt])).toEqual([
            ["api", "degraded", 2_000],
            ["web", "running", 1_000]
          ])
          const rehash = yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: spec, observed: [observed("api", "degraded", "h2"), observed("web", "running")] },
            3_000
          )
          expect(rehash).toEqual([])
          expect((yield* repo.appStates("shop", "web-1"))[0]).toMatchObject({ specHash: "h2", changedAt: 3_000 })
        })
      )

      test(
        "repo ahead: an app gone from spec and engine is deleted",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: ["api", "old"], observed: [observed("api", "running"), observed("old", "running")] },
            1_000
          )
          const transitions = yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: ["api"], observed: [observed("api", "running")] },
            2_000
          )
          expect(transitions).toEqual([{ app: "old", from: "running", to: undefined }])
          expect((yield* repo.appStates("shop", "web-1")).map((r) => r.app)).toEqual(["api"])
        })
      )

      test(
        "engine unreachable: nothing changes",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: ["api"], observed: [observed("api", "running")] },
            1_000
          )
          const before = yield* repo.appStates("shop", "web-1")
          const transitions = yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: [], observed: "unreachable" },
            2_000
          )
          expect(transitions).toEqual([])
          expect(yield* repo.appStates("shop", "web-1")).toEqual(before)
        })
      )

      test(
        "another host's rows (and another scope's) are untouched",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.syncAppStates(
            "shop",
            "web-2",
            { specApps: ["api"], observed: [observed("api", "running")] },
            1_000
          )
          yield* repo.syncAppStates(
            "blog",
            "web-1",
            { specApps: ["api"], observed: [observed("api", "failed")] },
            1_000
          )
          yield* repo.syncAppStates(
            "shop",
            "web-1",
            { specApps: ["api"], observed: [observed("api", "running")] },
            1_000
          )
          // web-1 of shop now has nothing desired and nothing observed: its row goes, and only its row.
          const transitions = yield* repo.syncAppStates("shop", "web-1", { specApps: [], observed: [] }, 2_000)
          expect(transitions).toEqual([{ app: "api", from: "running", to: undefined }])
          expect(yield* repo.appStates("shop", "web-1")).toEqual([])
          expect((yield* repo.appStates("shop", "web-2")).map((r) => [r.app, r.state])).toEqual([["api", "running"]])
          expect((yield* repo.appStates("blog", "web-1")).map((r) => [r.app, r.state])).toEqual([["api", "failed"]])
        })
      )
    })

    describe("restarts", () => {
      test(
        "recent restarts of a host, newest first, from a given time",
        Effect.gen(function* () {
          const repo = yield* Repo
          const at = (app: string, service: string, time: number, host = "web-1") =>
            repo.recordRestart({ scope: "shop", host, app, service, at: time, specHash: "h1" })
          yield* at("shop", "api", 1_000)
          yield* at("shop", "api", 5_000)
          yield* at("shop", "worker", 3_000)
          yield* at("shop", "api", 4_000, "web-2")
          const recent = yield* repo.recentRestarts("shop", "web-1", 2_000)
          expect(recent.map((r) => [r.service, r.at])).toEqual([
            ["api", 5_000],
            ["worker", 3_000]
          ])
          expect(recent[0]).toEqual({
            scope: "shop",
            host: "web-1",
            app: "shop",
            service: "api",
            at: 5_000,
            specHash: "h1"
          })
          expect((yield* repo.recentRestarts("shop", "web-1", 0)).length).toBe(3)
        })
      )

      test(
        "restarts older than the retention are pruned",
        Effect.gen(function* () {
          const repo = yield* Repo
          const restart = (time: number) =>
            repo.recordRestart({ scope: "shop", host: "web-1", app: "shop", service: "api", at: time, specHash: "h" })
          yield* restart(1_000)
          yield* restart(5_000)
          yield* restart(12_000)
          // retention 10 s: recording at 12 s drops the one at 1 s and keeps the one at 5 s.
          expect((yield* repo.recentRestarts("shop", "web-1", 0)).map((r) => r.at)).toEqual([12_000, 5_000])
        }),
        { restartRetentionMs: 10_000 }
      )
    })

    describe("pulls", () => {
      test(
        "the last pull of each image per host",
        Effect.gen(function* () {
          const repo = yield* Repo
          const pull = (image: string, at: number, host = "web-1") =>
            repo.recordPull({ scope: "shop", host, image, at })
          yield* pull("nginx:1", 1_000)
          yield* pull("redis:7", 2_000)
          yield* pull("nginx:1", 5_000)
          yield* pull("nginx:1", 9_000, "web-2")
          expect(yield* repo.pulls("shop", "web-1")).toEqual([
            { scope: "shop", host: "web-1", image: "nginx:1", at: 5_000 },
            { scope: "shop", host: "web-1", image: "redis:7", at: 2_000 }
          ])
          expect(yield* repo.pulls("other", "web-1")).toEqual([])
        })
      )
    })

    describe("leases", () => {
      test(
        "one holder at a time; the holder re-acquires and renews",
        Effect.gen(function* () {
          const repo = yield* Repo
          const first = yield* repo.acquireLease("shop", "web-1", "alice", 10_000)
          expect(first).toEqual({ _tag: "Acquired", expiresAt: 10_000, previousHolder: undefined, abandonedRuns: [] })
          expect(yield* repo.acquireLease("shop", "web-1", "bob", 10_000)).toEqual({
            _tag: "Held",
            heldBy: "alice",
            expiresAt: 10_000
          })
          // another host is another lease
          expect((yield* repo.acquireLease("shop", "web-2", "bob", 10_000))._tag).toBe("Acquired")
          yield* TestClock.adjust("4 seconds")
          expect(yield* repo.acquireLease("shop", "web-1", "alice", 10_000)).toMatchObject({
            _tag: "Acquired",
            expiresAt: 14_000
          })
          yield* TestClock.adjust("4 seconds")
          expect(yield* repo.renewLease("shop", "web-1", "alice", 10_000)).toBe(18_000)
          expect(yield* repo.lease("shop", "web-1")).toEqual({
            scope: "shop",
            host: "web-1",
            holder: "alice",
            acquiredAt: 0,
            expiresAt: 18_000
          })
        })
      )

      test(
        "renewing someone else's lease fails with lease-lost",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.acquireLease("shop", "web-1", "alice", 10_000)
          const error = yield* Effect.flip(repo.renewLease("shop", "web-1", "bob", 10_000))
          expect(error.kind).toBe("lease-lost")
          expect(error.message).toContain('"alice" holds it')
          const none = yield* Effect.flip(repo.renewLease("shop", "web-9", "bob", 10_000))
          expect(none.message).toContain("nobody holds it")
        })
      )

      test(
        "only the holder releases; then another can take it",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.acquireLease("shop", "web-1", "alice", 10_000)
          expect(yield* repo.releaseLease("shop", "web-1", "bob")).toBe(false)
          expect((yield* repo.acquireLease("shop", "web-1", "bob", 10_000))._tag).toBe("Held")
          expect(yield* repo.releaseLease("shop", "web-1", "alice")).toBe(true)
          expect(yield* repo.acquireLease("shop", "web-1", "bob", 10_000)).toEqual({
            _tag: "Acquired",
            expiresAt: 10_000,
            previousHolder: undefined,
            abandonedRuns: []
          })
        })
      )

      test(
        "an expired lease is taken over, and the dead holder's runs there are abandoned",
        Effect.gen(function* () {
          const repo = yield* Repo
          yield* repo.acquireLease("shop", "web-1", "dead", 5_000)
          yield* repo.createRun(run("dead-running", { holder: "dead", status: "running" }))
          yield* repo.createRun(run("dead-pending", { holder: "dead" }))
          yield* repo.createRun(run("dead-done", { holder: "dead", status: "running" }))
          yield* repo.setRunStatus("dead-done", { status: "succeeded", at: 2_000 })
          yield* repo.createRun(run("dead-other-host", { holder: "dead", status: "running", host: "web-2" }))
          yield* repo.createRun(run("someone-else", { holder: "carol", status: "running" }))

          yield* TestClock.adjust("4999 millis")
          expect((yield* repo.acquireLease("shop", "web-1", "bob", 5_000))._tag).toBe("Held")
          yield* TestClock.adjust("1 millis")
          const taken = yield* repo.acquireLease("shop", "web-1", "bob", 5_000)
          expect(taken).toEqual({
            _tag: "Acquired",
            expiresAt: 10_000,
            previousHolder: "dead",
            abandonedRuns: ["dead-pending", "dead-running"]
          })
          const status = (id: string) => Effect.map(repo.getRun(id), (d) => d?.run.status)
          expect(yield* status("dead-running")).toBe("abandoned")
          expect(yield* status("dead-pending")).toBe("abandoned")
          expect(yield* status("dead-done")).toBe("succeeded")
          expect(yield* status("dead-other-host")).toBe("running")
          expect(yield* status("someone-else")).toBe("running")
          const abandoned = (yield* repo.getRun("dead-running"))?.run
          expect(abandoned?.finishedAt).toBe(5_000)
          expect(abandoned?.error).toContain('lease holder "dead"')
          expect(abandoned?.error).toContain('taken over by "bob"')

          // The dead holder, if it comes back, can neither finish its run nor renew.
          const late = yield* Effect.flip(repo.setRunStatus("dead-running", { status: "succeeded" }))
          expect(late.kind).toBe("illegal-transition")
          expect(late.message).toContain("already ended as abandoned")
          expect((yield* Effect.flip(repo.renewLease("shop", "web-1", "dead", 5_000))).kind).toBe("lease-lost")
        })
      )

      test(
        "a TTL that is not a positive number is refused",
        Effect.gen(function* () {
          const repo = yield* Repo
          for (const ttl of [0, -5, Number.NaN]) {
            const error = yield* Effect.flip(repo.acquireLease("shop", "web-1", "alice", ttl))
            expect(error.kind).toBe("invalid")
            expect(error.message).toContain("TTL")
          }
        })
      )
    })
  })
}
