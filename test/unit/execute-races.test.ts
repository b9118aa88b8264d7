/**
 * Races between runners on the in-memory engine: another runner (or a person) did the same thing a
 * moment before, or something else in its way. What is already there is done, what is already gone
 * is done, a real conflict fails with what holds the name or uses the thing. The same cases run on
 * the real engine in test/e2e/races.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Semaphore, Stream } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { logSources } from "../../runners/cli/logs-command.ts"
import { runStep } from "../../runners/execute/run-action.ts"
import { raceCases, runRaceCase } from "../support/race-cases.ts"
import { baseConfig } from "../support/docker-e2e.ts"

describe("races between runners, on the in-memory engine", () => {
  for (const [i, c] of raceCases.entries()) {
    it.live(c.name, () =>
      Effect.gen(function* () {
        const outcomes = yield* runRaceCase(c, "q", `race-${i}`, 18_080)
        expect(outcomes).toEqual(c.expect)
      }).pipe(Effect.provide(DockerMemory.layer()))
    )
  }

  it.live(
    "observe: a container that is gone between the list and its inspect is not there (as on the real engine)",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const memory = yield* MemoryEngine
        yield* docker.createContainer("local", baseConfig("obs", "obs-a", "moor-fixture/app:1"))
        yield* docker.createContainer("local", baseConfig("obs", "obs-b", "moor-fixture/crashy:1"))
        for (const name of ["obs-a", "obs-b"]) {
          yield* docker.startContainer("local", name)
          yield* memory.stop("local", name)
        }
        // Exited containers are inspected: the engine says the first one is gone by then.
        yield* memory.failNext({ op: "container.inspect", kind: "not-found" })
        const seen = yield* docker.observe("local", "obs")
        expect(seen._tag === "Known" ? seen.containers.map((c) => c.name) : seen.reason).toEqual(["obs-b"])
        // Any other failure of the inspect leaves the list's view.
        yield* memory.failNext({ op: "container.inspect", kind: "transient" })
        const again = yield* docker.observe("local", "obs")
        expect(again._tag === "Known" ? again.containers.map((c) => c.name) : again.reason).toEqual(["obs-a", "obs-b"])
      }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live(
    "logs: a container removed after it was observed (replaced by another runner) has no lines, and is no error",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        for (const service of ["a", "b"]) {
          yield* docker.createContainer("local", {
            ...baseConfig("logs", `logs-${service}`, "moor-fixture/app:1"),
            labels: { "moor.scope": "logs", "moor.app": "shop", "moor.service": service }
          })
          yield* docker.startContainer("local", `logs-${service}`)
        }
        const sources = yield* logSources(["local"], "logs", "shop", Option.none(), { follow: false })
        yield* docker.removeContainer("local", "logs-a")
        const lines = yield* Stream.runCollect(Stream.mergeAll(sources, { concurrency: 1 }))
        expect(lines).toEqual(["b | moor-fixture app version 1 listening on :8080"])
      }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live(
    "rename: a container already renamed (by another runner, or by this one when the answer was lost) is done; one gone is not",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const o = {
          redact: (text: string) => text,
          scope: "ren",
          semaphore: yield* Semaphore.make(4),
          retries: 2,
          retryBaseMs: 1,
          callTimeoutMs: 5_000,
          pullTimeoutMs: 5_000
        }
        const labels = { "moor.scope": "ren", "moor.hash": "h2" }
        const id = yield* docker.createContainer("local", {
          ...baseConfig("ren", "ren-s-1", "moor-fixture/app:1"),
          labels
        })
        const rename = (container: { name: string; id?: string }, to: string, hash?: string) =>
          Effect.result(runStep(o, "local", { _tag: "rename", container, to }, hash))
        // By id: renamed a moment before, to the very name asked for.
        yield* docker.renameContainer("local", id, "ren-s-1-old")
        expect((yield* rename({ name: "ren-s-1", id }, "ren-s-1-old"))._tag).toBe("Success")
        // By name only (a start-first replacement's -next): gone under that name, and the service's name
        // holds this scope's container of the replacement's spec: another runner finished it.
        yield* docker.renameContainer("local", id, "ren-s-1")
        expect((yield* rename({ name: "ren-s-1-next" }, "ren-s-1", "h2"))._tag).toBe("Success")
        const other = yield* rename({ name: "ren-s-1-next" }, "ren-s-1", "h3")
        expect(other._tag === "Failure" ? other.failure.message : "").toBe(
          "rename ren-s-1-next to ren-s-1: ren-s-1-next is gone: it was removed since it was observed (by another runner, or by hand)"
        )
      }).pipe(Effect.provide(DockerMemory.layer()))
  )
})
