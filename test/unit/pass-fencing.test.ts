/**
 * A pass writes to an engine only to act on it, and acts on a host only while it holds it: a quiet
 * pass only lists; a pass with changes takes the engine lock, then looks again; a pass whose lease
 * renewal fails, or whose engine lock is taken over, starts no new action there, lets the one in
 * flight finish and says so; a runner that took over its lease finds the engine still locked and
 * changes nothing while that action runs; an engine that cannot be reached when its lock is taken
 * is left alone.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { hasChanges } from "../../core/describe.ts"
import { RepoError } from "../../adapters/repo/errors.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { lockLifeOf } from "../../runners/pass/engine-lock.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { app, desired, svc } from "../support/core-fixtures.ts"

const IMAGE = "moor-test/plain:1"
const SCOPE = "fence"
const TTL = 60_000
const spec = desired([app("f", { a: svc(IMAGE), b: svc(IMAGE) })], { scope: SCOPE })
const layers = () => Layer.mergeAll(DockerMemory.layer({ images: [{ ref: IMAGE }] }), Repo.layerMemory, Bus.layerMemory)

const pass = (id: string, holder: string) =>
  reconcilePass({
    id,
    trigger: "watch",
    desired: spec,
    policy: makePolicy(),
    hosts: ["local"],
    holder,
    lease: { ttlMs: TTL, waitMs: 0 },
    // An engine call held by the test outlives the lease (virtual time): no call timeout cuts it short.
    execute: { callTimeoutMs: 100 * TTL }
  })

const outcomeOf = (results: ReadonlyArray<{ action: { id: string }; outcome: string; error?: string }>, id: string) =>
  results.find((r) => r.action.id === id)

/**
 * The engine, with the creation of `name` held until `release` (it has started once `entered`):
 * an action in flight for as long as the test wants.
 */
const holdingCreate = (name: string) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const entered = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const gated = Docker.of({
      ...docker,
      createContainer: (host, config) =>
        config.name === name
          ? Deferred.succeed(entered, undefined).pipe(
              Effect.andThen(Deferred.await(release)),
              Effect.andThen(docker.createContainer(host, config))
            )
          : docker.createContainer(host, config)
    })
    return { gated, entered, release }
  })

describe("a quiet pass only reads", () => {
  it.live(
    "a pass with nothing to do makes the 4 list calls and no write; one with changes locks, then looks again",
    () =>
      Effect.gen(function* () {
        const engine = yield* MemoryEngine
        const docker = yield* Docker
        yield* pass("deploy", "runner-a")
        yield* engine.resetCalls
        const quiet = yield* pass("quiet", "runner-a")
        expect(quiet.runs).toMatchObject([{ host: "local", status: "succeeded" }])
        expect(yield* engine.calls("local")).toEqual({
          "containers.list": 1,
          "volumes.list": 1,
          "networks.list": 1,
          "images.list": 1
        })

        yield* engine.kill("local", "f-a-1")
        const seen: Array<string> = []
        const noted = <A, E>(what: string, call: Effect.Effect<A, E>) =>
          Effect.andThen(
            Effect.sync(() => seen.push(what)),
            call
          )
        const traced = Docker.of({
          ...docker,
          observe: (host, scope) => noted("observe", docker.observe(host, scope)),
          lock: (host, request) => noted("lock", docker.lock(host, request)),
          startContainer: (host, ref) => noted("start", docker.startContainer(host, ref)),
          unlock: (host, id) => noted("unlock", docker.unlock(host, id))
        })
        const heal = yield* pass("heal", "runner-a").pipe(Effect.provideService(Docker, traced))
        expect(heal.runs).toMatchObject([{ host: "local", status: "succeeded" }])
        expect(seen).toEqual(["observe", "lock", "observe", "start", "observe", "unlock"])
      }).pipe(Effect.provide(layers()))
  )
})

describe("fencing", () => {
  it.effect(
    "a pass whose lease renewal fails starts nothing more there; the runner that takes the lease over waits for its action in flight",
    () =>
      Effect.gen(function* () {
        const repo = yield* Repo
        const { gated, entered, release } = yield* holdingCreate("f-a-1")
        let down = false
        const flaky = Repo.of({
          ...repo,
          renewLease: (...args) =>
            down
              ? Effect.fail(
                  new RepoError({ op: "renewLease", kind: "unavailable", message: "renewLease: connection refused" })
                )
              : repo.renewLease(...args)
        })
        const a = yield* pass("a-1", "runner-a").pipe(
          Effect.provideService(Docker, gated),
          Effect.provideService(Repo, flaky),
          Effect.forkChild
        )
        yield* Deferred.await(entered)
        // Runner a's repository goes away while the creation of f-a-1 is in flight, for longer than
        // its lease lives; its engine still answers.
        down = true
        yield* TestClock.adjust(TTL + 1)

        // Runner b takes over the expired lease, finds the engine lock still held by a, and changes nothing.
        const b = yield* pass("b-1", "runner-b")
        expect(b.runs).toHaveLength(1)
        expect(b.runs[0]?.status).toBe("failed")
        expect(b.runs[0]?.error).toMatch(
          /^another moor \(runner-a\) holds the engine lock of scope fence on host local/
        )
        expect(b.results).toEqual([])

        yield* Deferred.succeed(release, undefined)
        const done = yield* Fiber.join(a)
        // The action in flight finished; the ones after it did not start, and the run says why.
        expect(outcomeOf(done.results, "local/f/a:create")?.outcome).toBe("done")
        expect(outcomeOf(done.results, "local/f/a:start")).toMatchObject({
          outcome: "skipped",
          error: expect.stringMatching(
            /^not started: this runner could not renew its lease on host local, which expires/
          )
        })
        expect(done.runs[0]?.status).toBe("partial")
        expect(done.runs[0]?.error).toMatch(/^stopped acting: this runner could not renew its lease on host local/)

        // Once a's pass is over (its lock removed), b converges the host.
        const again = yield* Effect.forkChild(pass("b-2", "runner-b"))
        yield* TestClock.adjust("10 seconds") // its waits for the containers to settle
        const b2 = yield* Fiber.join(again)
        expect(b2.runs).toMatchObject([{ host: "local", status: "succeeded" }])
        expect(b2.results.map((r) => `${r.action.id} ${r.outcome}`)).toEqual(["local/f/a:recreate done"])
        expect(hasChanges(b2.finalPlan)).toBe(false)
      }).pipe(Effect.provide(layers()))
  )

  it.effect("a lease another runner takes is lost at once: no new action starts there", () =>
    Effect.gen(function* () {
      const repo = yield* Repo
      const { gated, entered, release } = yield* holdingCreate("f-a-1")
      const a = yield* pass("a-1", "runner-a").pipe(Effect.provideService(Docker, gated), Effect.forkChild)
      yield* Deferred.await(entered)
      // Another runner (wrongly) judged runner-a dead and took its lease over.
      yield* repo.acquireLease(SCOPE, "local", "runner-b", TTL, { takeOverFrom: "runner-a" })
      yield* TestClock.adjust(TTL / 3 + 1)
      yield* Deferred.succeed(release, undefined)
      const done = yield* Fiber.join(a)
      expect(outcomeOf(done.results, "local/f/a:create")?.outcome).toBe("done")
      expect(outcomeOf(done.results, "local/f/a:start")).toMatchObject({
        outcome: "skipped",
        error: expect.stringMatching(/^not started: this runner lost its lease on host local: .*"runner-b" holds it/)
      })
      expect(done.runs[0]?.error).toMatch(/^stopped acting: this runner lost its lease on host local/)
    }).pipe(Effect.provide(layers()))
  )

  it.effect(
    "an engine lock taken over mid-pass is lost: no new action starts there, and the new holder's lock stays",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const { gated, entered, release } = yield* holdingCreate("f-a-1")
        const a = yield* pass("a-1", "runner-a").pipe(Effect.provideService(Docker, gated), Effect.forkChild)
        yield* Deferred.await(entered)
        // Another runner (wrongly) judged runner-a dead and took its engine lock over.
        const taken = yield* docker.lock("local", {
          scope: SCOPE,
          holder: "runner-b",
          now: 0,
          expiresAt: 600_000,
          takeOverFrom: "runner-a"
        })
        expect(taken._tag).toBe("Locked")
        yield* TestClock.adjust(lockLifeOf(TTL) / 3 + 1)
        yield* Deferred.succeed(release, undefined)
        const done = yield* Fiber.join(a)
        expect(outcomeOf(done.results, "local/f/a:create")?.outcome).toBe("done")
        expect(outcomeOf(done.results, "local/f/a:start")).toMatchObject({
          outcome: "skipped",
          error: "not started: another moor (runner-b) took over the engine lock on host local"
        })
        expect(done.runs[0]?.status).toBe("partial")
        expect(done.runs[0]?.error).toMatch(/^stopped acting: another moor \(runner-b\) took over the engine lock/)
        // Runner a left runner-b's lock in place.
        const seen = yield* docker.lock("local", { scope: SCOPE, holder: "runner-c", now: 1, expiresAt: 2 })
        expect(seen).toMatchObject({ _tag: "Held", holder: "runner-b" })
      }).pipe(Effect.provide(layers()))
  )

  it.effect("an engine that does not answer when its lock is taken is left alone for the pass", () =>
    Effect.gen(function* () {
      const engine = yield* MemoryEngine
      yield* engine.failNext({ op: "lock.create", kind: "unreachable" })
      const first = yield* pass("a-1", "runner-a")
      expect(first.runs).toHaveLength(1)
      expect(first.runs[0]?.status).toBe("failed")
      expect(first.runs[0]?.error).toMatch(
        /^could not take the engine lock on host local, so nothing on it was changed: .*did not answer/
      )
      expect(first.results.filter((r) => r.outcome !== "skipped")).toEqual([])
      expect((yield* engine.snapshot("local")).containers).toEqual([])
      const next = yield* pass("a-2", "runner-a")
      expect(next.runs).toMatchObject([{ host: "local", status: "succeeded" }])
    }).pipe(Effect.provide(layers()))
  )
})
