/**
 * Events only on real transitions: quiet passes publish nothing; a killed container publishes exactly
 * the transitions it causes; every pass still leaves a run record.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref, Stream } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { MoorEvent } from "../../adapters/bus/events.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { app, desired, svc } from "../support/core-fixtures.ts"

const IMAGE = "moor-test/plain:1"
const spec = desired([app("evt", { a: svc(IMAGE), b: svc(IMAGE) }), app("other", { c: svc(IMAGE) })], { scope: "evt" })
const layers = Layer.mergeAll(DockerMemory.layer({ images: [{ ref: IMAGE }] }), Repo.layerMemory, Bus.layerMemory)

const passNamed = (id: string) =>
  reconcilePass({
    id,
    trigger: "watch",
    desired: spec,
    policy: makePolicy(),
    hosts: ["local"],
    holder: "test",
    lease: { ttlMs: 60_000, waitMs: 0 }
  })

const describeEvent = (e: MoorEvent): string =>
  e.type === "app.state"
    ? `${e.app}: ${e.previous} -> ${e.current}`
    : e.type === "run.lifecycle"
      ? `run ${e.status}`
      : e.type

describe("events only on real transitions", () => {
  it.live(
    "a deploy publishes the run and each app's transitions; quiet passes publish nothing; a kill publishes exactly its transitions",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const engine = yield* MemoryEngine
        const repo = yield* Repo
        const seen = yield* Ref.make<Array<string>>([])
        const events = yield* bus.subscribe("moor.evt.>")
        const collector = yield* Stream.runForEach(events, (e) =>
          Ref.update(seen, (xs) => [...xs, describeEvent(e)])
        ).pipe(Effect.forkScoped)
        const take = Effect.gen(function* () {
          yield* Effect.sleep("50 millis")
          return yield* Ref.getAndSet(seen, [])
        })

        yield* passNamed("deploy")
        expect(yield* take).toEqual([
          "run pending",
          "run running",
          "evt: null -> pending",
          "other: null -> pending",
          "evt: pending -> running",
          "other: pending -> running",
          "run succeeded"
        ])

        for (let i = 0; i < 5; i++) yield* passNamed(`quiet-${i}`)
        expect(yield* take).toEqual([])
        // ...but each quiet pass is recorded.
        expect((yield* repo.listRuns({ scope: "evt", limit: 100 })).map((r) => `${r.id} ${r.status}`)).toContain(
          "quiet-4-local succeeded"
        )

        yield* engine.kill("local", "evt-a-1")
        yield* passNamed("heal")
        expect(yield* take).toEqual([
          "run pending",
          "run running",
          "evt: running -> degraded",
          "evt: degraded -> running",
          "run succeeded"
        ])
        yield* Fiber.interrupt(collector)
      }).pipe(Effect.provide(layers), Effect.scoped)
  )

  it.live("an engine that stops answering changes no app state and publishes the failed run only", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const engine = yield* MemoryEngine
      const repo = yield* Repo
      yield* passNamed("first")
      const before = yield* repo.appStates("evt", "local")
      const seen = yield* Ref.make<Array<string>>([])
      const collector = yield* Stream.runForEach(yield* bus.subscribe("moor.evt.>"), (e) =>
        Ref.update(seen, (xs) => [...xs, describeEvent(e)])
      ).pipe(Effect.forkScoped)
      yield* engine.setReachable("local", false)
      const result = yield* passNamed("down")
      yield* Effect.sleep("50 millis")
      expect(result.runs).toMatchObject([{ host: "local", status: "failed" }])
      expect(yield* Ref.get(seen)).toEqual(["run pending", "run running", "run failed"])
      expect(yield* repo.appStates("evt", "local")).toEqual(before)
      yield* Fiber.interrupt(collector)
    }).pipe(Effect.provide(layers), Effect.scoped)
  )
})
