/**
 * pull_policy across passes: `always` pulls once per pass (not once per round); `daily` pulls when
 * moor's last pull of the image on the host is a day old, which the repository remembers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../adapters/bus/Bus.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import type { Service } from "../../core/model/desired.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { app, desired, svc } from "../support/core-fixtures.ts"

const IMAGE = "moor-test/pulled:1"
const layers = () =>
  Layer.mergeAll(DockerMemory.layer({ images: [{ ref: IMAGE, remote: true }] }), Repo.layerMemory, Bus.layerMemory)
const pass = (id: string, extra: Partial<Service>) =>
  reconcilePass({
    id,
    trigger: "watch",
    desired: desired([app("p", { web: svc(IMAGE, extra) })], { scope: "pulls" }),
    policy: makePolicy(),
    hosts: ["local"],
    holder: "runner",
    lease: { ttlMs: 60_000, waitMs: 0 }
  })
const pullsOf = (results: ReadonlyArray<{ action: { _tag: string } }>) =>
  results.filter((r) => r.action._tag === "pull-image").length

describe("pull_policy across passes", () => {
  it.effect("always: one pull in a pass that also creates the container, and one in the next pass", () =>
    Effect.gen(function* () {
      const first = yield* pass("one", { pullPolicy: "always" })
      expect([first.rounds > 0, pullsOf(first.results)]).toEqual([true, 1])
      yield* TestClock.adjust("30 seconds")
      const second = yield* pass("two", { pullPolicy: "always" })
      expect(pullsOf(second.results)).toBe(1)
    }).pipe(Effect.provide(layers()))
  )

  it.effect("daily: pulled again only once a day has passed since moor's last pull", () =>
    Effect.gen(function* () {
      const engine = yield* MemoryEngine
      const daily = { pullPolicy: "refresh" as const, pullRefreshMs: 24 * 3600_000 }
      yield* pass("deploy", daily)
      yield* engine.resetCalls
      yield* TestClock.adjust("1 hour")
      const soon = yield* pass("soon", daily)
      expect(pullsOf(soon.results)).toBe(0)
      yield* TestClock.adjust("24 hours")
      const later = yield* pass("later", daily)
      expect(pullsOf(later.results)).toBe(1)
      expect(later.firstPlan.actions.find((a) => a._tag === "pull-image")?.reason).toMatch(
        /^pull_policy: every 24h \(last pulled 25h ago\)$/
      )
    }).pipe(Effect.provide(layers()))
  )
})
