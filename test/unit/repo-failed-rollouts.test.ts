/** The repository remembers the last failed rollout per service, until it is cleared. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Repo } from "../../adapters/repo/Repo.ts"

describe("failed rollouts in the repository", () => {
  it.effect("keeps the last failure per service, per host, and forgets it when cleared", () =>
    Effect.gen(function* () {
      const repo = yield* Repo
      const base = { scope: "s", host: "h1", app: "shop", service: "web" }
      yield* repo.recordFailedRollout({ ...base, specHash: "a", at: 1, error: "first" })
      yield* repo.recordFailedRollout({ ...base, specHash: "b", at: 2, error: "x".repeat(5000) })
      yield* repo.recordFailedRollout({ ...base, host: "h2", specHash: "c", at: 3, error: "other host" })
      const rows = yield* repo.failedRollouts("s", "h1")
      expect(rows.map((r) => [r.app, r.service, r.specHash, r.at])).toEqual([["shop", "web", "b", 2]])
      expect(rows[0]!.error.length).toBeLessThanOrEqual(2000)
      yield* repo.clearFailedRollout("s", "h1", "shop", "web")
      expect(yield* repo.failedRollouts("s", "h1")).toEqual([])
      expect((yield* repo.failedRollouts("s", "h2")).map((r) => r.specHash)).toEqual(["c"])
    }).pipe(Effect.provide(Repo.layerMemory))
  )
})
