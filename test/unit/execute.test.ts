/**
 * The executor: runs a plan's actions through the Docker service, dependencies honoured, each app
 * isolated, transient errors retried, every action bounded in time, replacements rolled back, and
 * the work of a concurrent runner taken for what it is.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import type { Plan } from "../../core/model/plan.ts"
import { plan } from "../../core/plan/plan.ts"
import { execute } from "../../runners/execute/executor.ts"
import { app, desired, policy, svc } from "../support/core-fixtures.ts"

const IMAGE = "moor-test/plain:1"
const SCOPE = "exec"
const engine = () => DockerMemory.layer({ images: [{ ref: IMAGE }] })
const options = { scope: SCOPE, retryBaseMs: 1, callTimeoutMs: 5_000 }

/** Plans a desired state on the memory engine as it is now. */
const planFor = (apps: ReadonlyArray<unknown>, overrides = {}) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const d = desired(apps, { scope: SCOPE })
    return plan(d, { now: 0, hosts: [yield* docker.observe("local", SCOPE)] }, policy(overrides))
  })
const outcomes = (results: ReadonlyArray<{ action: { id: string }; outcome: string }>) =>
  Object.fromEntries(results.map((r) => [r.action.id, r.outcome]))

describe("the executor", () => {
  it.live("a failed action skips only what waits on it: its app and its consumers, not the others", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      const p: Plan = yield* planFor([
        app("db", { s: svc(IMAGE) }),
        app("api", { s: svc(IMAGE) }, { requires: [{ app: "db" }] }),
        app("other", { s: svc(IMAGE) })
      ])
      yield* memory.failNext({ op: "container.create", kind: "rejected", times: 1 })
      const results = yield* execute(p, options)
      const o = outcomes(results)
      expect(o["local/db/s:create"]).toBe("failed")
      expect(o["local/db/s:start"]).toBe("skipped")
      expect(o["local/api/s:create"]).toBe("skipped")
      expect(o["local/other/s:create"]).toBe("done")
      expect(o["local/other/s:start"]).toBe("done")
      expect(results.find((r) => r.action.id === "local/api/s:create")?.error).toMatch(/^waits for local\/db\/s:/)
    }).pipe(Effect.provide(engine()))
  )

  it.live("transient engine errors are retried with backoff; an error retrying cannot help is not", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      const p = yield* planFor([app("a", { s: svc(IMAGE) }), app("b", { s: svc(IMAGE) })])
      yield* memory.failNext({ op: "container.create", kind: "transient", times: 3 })
      const first = outcomes(yield* execute(p, options))
      expect(Object.values(first).every((x) => x === "done")).toBe(true)
      yield* memory.resetCalls
      const q = yield* planFor([app("a", { s: svc(IMAGE) }), app("b", { s: svc(IMAGE) }), app("c", { s: svc(IMAGE) })])
      yield* memory.failNext({ op: "container.create", kind: "rejected", times: 1 })
      const second = yield* execute(q, options)
      expect(second.find((r) => r.action.id === "local/c/s:create")).toMatchObject({ outcome: "failed" })
      expect((yield* memory.calls("local"))["container.create"]).toBe(1)
    }).pipe(Effect.provide(engine()))
  )

  it.effect("every engine call is bounded in time: one that never answers fails with a timeout", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const hanging = Layer.succeed(Docker, Docker.of({ ...docker, createNetwork: () => Effect.never }))
      const p = yield* planFor([app("a", { s: svc(IMAGE) })])
      const fiber = yield* execute(p, { ...options, retries: 0 }).pipe(Effect.provide(hanging), Effect.forkChild)
      yield* TestClock.adjust("6 seconds")
      const results = yield* Fiber.join(fiber)
      expect(results.find((r) => r.action._tag === "ensure-network")).toMatchObject({
        outcome: "failed",
        error: "create network a_default: no answer within 5s"
      })
    }).pipe(Effect.provide(engine()))
  )

  it.live(
    "a container another runner created a moment ago with the same spec is taken as done; a foreign one holding the name is not",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const memory = yield* MemoryEngine
        const p = yield* planFor([app("a", { s: svc(IMAGE) }), app("b", { s: svc(IMAGE) })])
        // Another runner got there first for a (the same create), and someone made b-s-1 by hand.
        const create = p.actions.find((a) => a.id === "local/a/s:create")
        if (create?._tag !== "create") throw new Error("no create")
        yield* docker.createNetwork("local", { name: "a_default", labels: {} })
        yield* docker.createContainer("local", create.container)
        yield* memory.createForeign("local", { name: "b-s-1", image: IMAGE })
        const o = outcomes(yield* execute(p, options))
        expect(o["local:network:a_default"]).toBe("done")
        expect(o["local/a/s:create"]).toBe("done")
        expect(o["local/a/s:start"]).toBe("done")
        expect(o["local/b/s:create"]).toBe("failed")
      }).pipe(Effect.provide(engine()))
  )

  it.live("a replacement whose new container never becomes healthy is rolled back: the old one serves again", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      const docker = yield* Docker
      yield* memory.addImage({
        ref: "moor-test/sick:1",
        healthcheck: { test: ["CMD", "/bin/check"], intervalMs: 100, retries: 1 },
        neverHealthy: true
      })
      const first = yield* planFor([app("a", { s: svc(IMAGE) })])
      yield* execute(first, options)
      const before = yield* docker.inspectContainer("local", "a-s-1")
      const second = yield* planFor([app("a", { s: svc("moor-test/sick:1", { healthTimeoutMs: 2_000 }) })])
      const results = yield* execute(second, options)
      const r = results.find((x) => x.action._tag === "recreate")
      expect(r?.outcome).toBe("failed")
      expect(r?.error).toMatch(
        /^replacement failed at step 3 \(wait-healthy a-s-1-next\): .*; rolled back, a-s-1 kept$/
      )
      const after = yield* docker.inspectContainer("local", "a-s-1")
      expect(after?.id).toBe(before?.id)
      expect(after?.state).toBe("running")
      expect(yield* docker.inspectContainer("local", "a-s-1-next")).toBeUndefined()
    }).pipe(Effect.provide(engine()))
  )

  it.live("a hook that exits non-zero fails with its output; its consumer is not started", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      yield* memory.scriptExec({ result: { exitCode: 3, output: "no such user table\n" } })
      const p = yield* planFor([
        app("db", { s: svc(IMAGE) }),
        app(
          "api",
          { s: svc(IMAGE) },
          { requires: [{ app: "db", onStart: { script: "hooks/add.sh", content: "exit 3" } }] }
        )
      ])
      const results = yield* execute(p, options)
      expect(results.find((r) => r.action._tag === "run-hook")).toMatchObject({
        outcome: "failed",
        error: "hook hooks/add.sh exited with 3: no such user table"
      })
      expect(outcomes(results)["local/api/s:create"]).toBe("skipped")
      expect(outcomes(results)["local/db/s:start"]).toBe("done")
    }).pipe(Effect.provide(engine()))
  )
})
