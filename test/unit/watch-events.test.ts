/**
 * Following a host's engine events between ticks (in-memory engine, TestClock): which events ask
 * for a pass, and an event stream that breaks is followed again with backoff, asking for a pass
 * since events may have been missed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { followHost, isDriftEvent } from "../../runners/watch/follow-events.ts"

const SCOPE = "watch-events"

const setup = Effect.gen(function* () {
  const docker = yield* Docker
  const engine = yield* MemoryEngine
  const requests: Array<string> = []
  const fiber = yield* Effect.forkChild(
    followHost(docker, "local", SCOPE, (why) => Effect.sync(() => requests.push(why)), { baseMs: 250, maxMs: 4000 })
  )
  yield* TestClock.adjust(0)
  return { engine, requests, fiber }
})

describe("following engine events", () => {
  it.effect("a container that dies, is paused, changes health or is removed asks for a pass; start does not", () =>
    Effect.gen(function* () {
      const { engine, requests, fiber } = yield* setup
      yield* engine.createForeign("local", {
        name: "wev-web-1",
        image: "moor-fixture/app:1",
        labels: { "moor.scope": SCOPE }
      })
      yield* engine.createForeign("local", {
        name: "other-web-1",
        image: "moor-fixture/app:1",
        labels: { "moor.scope": "someone-else" }
      })
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests, [], "creating and starting containers is not drift")

      yield* engine.kill("local", "other-web-1")
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests, [], "another scope's containers are not followed")

      yield* engine.kill("local", "wev-web-1")
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests, ["die wev-web-1 on local"])

      yield* engine.start("local", "wev-web-1")
      yield* engine.setHealth("local", "wev-web-1", "unhealthy")
      yield* engine.pause("local", "wev-web-1")
      yield* engine.remove("local", "wev-web-1")
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests.slice(1, 3), [
        "health_status: unhealthy wev-web-1 on local",
        "pause wev-web-1 on local"
      ])
      assert.include(requests.slice(3), "destroy wev-web-1 on local")
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.effect("a stream that breaks is followed again with backoff, and asks for a pass once it was up", () =>
    Effect.gen(function* () {
      const { engine, requests, fiber } = yield* setup
      yield* engine.createForeign("local", {
        name: "wev-api-1",
        image: "moor-fixture/app:1",
        labels: { "moor.scope": SCOPE }
      })
      yield* TestClock.adjust(5000)
      requests.length = 0 // its health check passed meanwhile
      yield* engine.resetCalls
      yield* engine.setReachable("local", false)
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests, ["events of host local were interrupted"])

      // Attempts while the host is away: after 250 ms, then 500, 1000, 2000, 4000, 4000 (capped).
      yield* TestClock.adjust(250 + 500 + 1000 + 2000 + 4000 + 4000)
      assert.strictEqual((yield* engine.calls("local")).events, 6)
      assert.strictEqual(requests.length, 1, "failed attempts do not ask for passes")

      yield* engine.setReachable("local", true)
      yield* TestClock.adjust(4000)
      assert.strictEqual((yield* engine.calls("local")).events, 7)
      assert.strictEqual(yield* engine.followers("local"), 1, "following again")
      yield* engine.kill("local", "wev-api-1")
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(requests, ["events of host local were interrupted", "die wev-api-1 on local"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it("isDriftEvent: die, oom, destroy, pause and health changes", () => {
    const event = (action: string) => ({ action, containerId: "c", name: "n", labels: {}, at: 0 })
    for (const a of ["die", "oom", "destroy", "pause", "health_status: healthy", "health_status: unhealthy"])
      assert.isTrue(isDriftEvent(event(a)), a)
    for (const a of ["create", "start", "kill", "stop", "rename", "unpause", "exec_start: sh"])
      assert.isFalse(isDriftEvent(event(a)), a)
  })
})
