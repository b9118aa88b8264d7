/**
 * The in-memory engine held to reality: one scenario, run on each real engine (engine A's Docker
 * 20.10 and the current engine's Docker 26; real time) and on
 * DockerMemory (TestClock), must tell the same story through `Docker`: states, health, exit codes,
 * error kinds, event sequences. Waits have margins for the real engine's timing.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Result, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { ObservedContainer } from "../../core/model/observed.ts"
import { Docker, type EngineEvent } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import {
  baseConfig,
  cleanupScope,
  newScope,
  requireFixtures,
  type TestEngine,
  testEngines
} from "../support/docker-e2e.ts"

interface Harness {
  readonly wait: (ms: number) => Effect.Effect<void>
  /** Resolves once an events stream opened just before is following. */
  readonly following: Effect.Effect<void>
}

const scenario = (scope: string, h: Harness) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const log: Array<string> = []
    const short = (name: string) => name.slice(scope.length + 1)
    const show = (c: ObservedContainer | undefined) =>
      c === undefined
        ? "absent"
        : [
            c.state,
            `health=${c.health}`,
            `exit=${c.exitCode ?? "-"}`,
            `restarts=${c.restartCount === undefined ? "-" : c.restartCount > 0 ? ">0" : "0"}`,
            `ports=${c.publishedPorts?.length ?? 0}`,
            `started=${c.startedAt !== undefined}`,
            `finished=${c.finishedAt !== undefined}`,
            `unhealthySince=${c.unhealthySince !== undefined}`,
            `image=${c.image}`,
            `fixture=${c.labels["moor.fixture"] ?? "-"}`,
            `app=${c.labels["moor.app"] ?? "-"}`
          ].join(" ")
    const look = (...names: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const seen = yield* docker.observe("local", scope)
        if (seen._tag !== "Known") return yield* Effect.die(new Error(seen.reason))
        for (const n of names) log.push(`${short(n)}: ${show(seen.containers.find((c) => c.name === n))}`)
      })
    const kind = <A, E extends { readonly kind: string }>(what: string, e: Effect.Effect<A, E>) =>
      Effect.map(Effect.result(e), (r) => log.push(`${what}: ${Result.isSuccess(r) ? "ok" : r.failure.kind}`))

    const events = yield* Effect.forkChild(
      docker.events("local", scope).pipe(
        Stream.takeUntil((e) => e.action === "destroy" && e.name === `${scope}-web`),
        Stream.runCollect
      )
    )
    yield* h.following
    const labels = { "moor.scope": scope, "moor.app": "shop" }
    const net = `${scope}_net`
    const vol = `${scope}_vol`
    const web = `${scope}-web`
    const job = `${scope}-job`
    const loop = `${scope}-loop`
    yield* docker.createNetwork("local", { name: net, labels })
    yield* docker.createVolume("local", { name: vol, labels })
    yield* docker.createContainer("local", {
      ...baseConfig(scope, web, "moor-fixture/app:1"),
      labels,
      ports: [{ target: 8080, protocol: "tcp" }],
      mounts: [{ type: "volume", source: vol, target: "/data", readOnly: false }],
      networks: [{ name: net, aliases: ["web"] }]
    })
    yield* look(web)
    yield* docker.startContainer("local", web)
    yield* look(web)
    yield* h.wait(3_000)
    yield* look(web)

    yield* docker.createContainer("local", { ...baseConfig(scope, job, "moor-fixture/crashy:1"), labels })
    yield* docker.startContainer("local", job)
    yield* docker.createContainer("local", {
      ...baseConfig(scope, loop, "moor-fixture/crashy:1"),
      labels,
      restart: "on-failure"
    })
    yield* docker.startContainer("local", loop)
    yield* h.wait(2_500)
    yield* look(job)
    const looping = yield* docker.inspectContainer("local", loop)
    log.push(`loop restarted: ${(looping?.restartCount ?? 0) > 0}`)
    yield* docker.stopContainer("local", loop, 1_000)

    const exec = yield* docker.exec("local", web, { cmd: ["touch", "/tmp/unhealthy"], env: {}, timeoutMs: 5_000 })
    log.push(`touch: exit ${exec.exitCode}`)
    yield* h.wait(4_000)
    yield* look(web)

    yield* kind(
      "duplicate name",
      docker.createContainer("local", { ...baseConfig(scope, web, "moor-fixture/app:1"), labels })
    )
    yield* kind("start missing", docker.startContainer("local", `${scope}-missing`))
    yield* kind(
      "missing image",
      docker.createContainer("local", baseConfig(scope, `${scope}-x`, "moor-fixture/none:1"))
    )
    yield* kind("remove network in use", docker.removeNetwork("local", net))
    yield* kind("remove volume in use", docker.removeVolume("local", vol))
    yield* kind("rename onto a name in use", docker.renameContainer("local", job, web))
    yield* kind("rename to its own name", docker.renameContainer("local", job, job))
    yield* kind("exec in a stopped container", docker.exec("local", job, { cmd: ["true"], env: {}, timeoutMs: 1_000 }))
    yield* kind("create network twice", docker.createNetwork("local", { name: net, labels }))
    yield* kind("create volume twice", docker.createVolume("local", { name: vol, labels }))
    yield* kind(
      "volumes_from a missing container",
      docker.createContainer("local", {
        ...baseConfig(scope, `${scope}-from`, "moor-fixture/app:1"),
        labels,
        options: { volumesFrom: [`${scope}-missing`] }
      })
    )
    const ipc = `${scope}-ipc`
    yield* docker.createContainer("local", {
      ...baseConfig(scope, ipc, "moor-fixture/app:1"),
      labels,
      options: { ipc: `container:${job}` }
    })
    yield* kind("start joining the IPC of a stopped container", docker.startContainer("local", ipc))
    yield* look(ipc)
    yield* docker.removeContainer("local", ipc)
    const pulled = yield* Effect.result(docker.pull("local", "moor-fixture/none:1"))
    log.push(`pull unknown: ${Result.isSuccess(pulled) ? "ok" : "fails"}`)

    yield* docker.stopContainer("local", web)
    yield* look(web)
    yield* docker.removeContainer("local", job)
    yield* docker.removeContainer("local", loop)
    yield* docker.removeContainer("local", web)
    yield* kind("remove network", docker.removeNetwork("local", net))
    yield* kind("remove volume", docker.removeVolume("local", vol))
    const seen: ReadonlyArray<EngineEvent> = yield* Fiber.join(events)
    for (const n of [web, job])
      log.push(
        `${short(n)} events: ${seen
          .filter((e) => e.name === n)
          .map((e) => e.action)
          .join(", ")}`
      )
    return log
  })

const engineVersionOf = (engine: TestEngine) =>
  Effect.promise(() => engine.raw.version()).pipe(Effect.map((v) => ({ version: v.Version, apiVersion: v.ApiVersion })))

const liveScope = newScope()
beforeAll(async () => {
  for (const engine of testEngines) await requireFixtures(engine)
})
afterAll(async () => {
  for (const engine of testEngines) await cleanupScope(liveScope, engine)
})

describe.concurrent.each(testEngines)("DockerMemory tells the same story as $label", (engine) => {
  it.live("one scenario, on the real engine and on the in-memory engine (TestClock)", () =>
    Effect.gen(function* () {
      const live = yield* scenario(liveScope, { wait: (ms) => Effect.sleep(ms), following: Effect.sleep(500) }).pipe(
        Effect.provide(DockerLive.layer([{ name: "local", endpoint: engine.endpoint }]))
      )
      const memory = yield* Effect.gen(function* () {
        const engine = yield* MemoryEngine
        return yield* scenario("test-memory", {
          wait: (ms) => TestClock.adjust(ms),
          following: Effect.gen(function* () {
            while ((yield* engine.followers("local")) === 0) yield* Effect.yieldNow
          })
        })
      }).pipe(
        // The in-memory engine plays the real engine's version (some event orders differ between versions).
        Effect.provide(DockerMemory.layer({ engine: yield* engineVersionOf(engine) })),
        Effect.provide(TestClock.layer())
      )
      expect(live.length).toBeGreaterThan(20)
      expect(memory).toEqual(live)
    })
  )
})
