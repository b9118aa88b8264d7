/**
 * The in-memory engine behaves like the real one as seen through `Docker`: lifecycles and health on
 * the TestClock, restart policies, the engine's conflicts, unreachable hosts, injected failures,
 * call counts, exec scripts, events and logs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Result, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { Docker, type DockerError } from "../../adapters/docker/Docker.ts"
import { CURRENT_ENGINE, DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"

const scope = "test-mem"
const config = (name: string, image: string, extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
  name,
  image,
  env: [],
  labels: { "moor.scope": scope, "moor.app": "shop" },
  ports: [],
  mounts: [],
  networks: [],
  ...extra
})

const withEngine = <A, E>(
  effect: Effect.Effect<A, E, Docker | MemoryEngine>,
  hosts: ReadonlyArray<string> = ["local"]
) => effect.pipe(Effect.provide(DockerMemory.layer({ hosts })))

const failure = <A>(effect: Effect.Effect<A, DockerError>) =>
  Effect.gen(function* () {
    const r = yield* Effect.result(effect)
    if (Result.isSuccess(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.success)}`)
    return r.failure
  })

const find = (h: ObservedHost, name: string): ObservedContainer | undefined => {
  if (h._tag !== "Known") throw new Error(`unreachable: ${h.reason}`)
  return h.containers.find((c) => c.name === name)
}

/** Creates and starts a container; returns its id. */
const run = (c: ContainerConfig, host = "local") =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const id = yield* docker.createContainer(host, c)
    yield* docker.startContainer(host, id)
    return id
  })

const observed = (name: string, host = "local") =>
  Effect.gen(function* () {
    const docker = yield* Docker
    return find(yield* docker.observe(host, scope), name)
  })

describe("DockerMemory: lifecycle and health on the clock", () => {
  it.effect("the fixture app starts with health starting, is healthy 1.5 s later, exits 0 on stop", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        const id = yield* run(config("shop-web-1", "moor-fixture/app:1"))
        expect(yield* observed("shop-web-1")).toMatchObject({
          id,
          state: "running",
          health: "starting",
          image: "moor-fixture/app:1",
          labels: { "moor.scope": scope, "moor.fixture": "app" }
        })
        yield* TestClock.adjust(1_499)
        expect((yield* observed("shop-web-1"))?.health).toBe("starting")
        yield* TestClock.adjust(1)
        expect((yield* observed("shop-web-1"))?.health).toBe("healthy")
        const events = (yield* engine.events("local")).map((e) => [e.action, e.at])
        expect(events).toEqual([
          ["create", 0],
          ["start", 0],
          ["health_status: healthy", 1_500]
        ])

        yield* docker.stopContainer("local", "shop-web-1")
        yield* docker.stopContainer("local", "shop-web-1") // stopped already: fine
        expect(yield* docker.inspectContainer("local", id)).toMatchObject({
          state: "exited",
          exitCode: 0,
          health: "none",
          startedAt: 0,
          finishedAt: 1_500,
          restartCount: 0
        })
        // A current engine reports the stop before the exit; Docker 20.10 the other way round.
        expect((yield* engine.events("local")).slice(3).map((e) => e.action)).toEqual(["kill", "stop", "die"])
        yield* engine.setEngine("local", { version: "20.10.24", apiVersion: "1.41" })
        yield* docker.startContainer("local", "shop-web-1")
        yield* docker.stopContainer("local", "shop-web-1")
        expect((yield* engine.events("local")).slice(-3).map((e) => e.action)).toEqual(["kill", "die", "stop"])
      })
    )
  )

  it.effect(
    "crashy exits 3 after 1 s; a quiet observe makes only the four list calls, an exited container one inspect",
    () =>
      withEngine(
        Effect.gen(function* () {
          const docker = yield* Docker
          const engine = yield* MemoryEngine
          yield* run(config("shop-web-1", "moor-fixture/app:1"))
          yield* run(config("shop-plain-1", "moor-fixture/app:1", { healthcheck: { test: ["NONE"] } }))
          yield* TestClock.adjust(2_000)
          yield* engine.resetCalls
          const quiet = yield* docker.observe("local", scope)
          expect(yield* engine.calls("local")).toEqual({
            "containers.list": 1,
            "volumes.list": 1,
            "networks.list": 1,
            "images.list": 1
          })
          expect(find(quiet, "shop-plain-1")).toMatchObject({ state: "running", health: "none" })

          yield* run(config("shop-job-1", "moor-fixture/crashy:1"))
          yield* TestClock.adjust(999)
          expect((yield* observed("shop-job-1"))?.state).toBe("running")
          yield* TestClock.adjust(1)
          yield* engine.resetCalls
          expect(yield* observed("shop-job-1")).toMatchObject({
            state: "exited",
            exitCode: 3,
            startedAt: 2_000,
            finishedAt: 3_000,
            restartCount: 0
          })
          expect((yield* engine.calls("local"))["container.inspect"]).toBe(1)
          const logs = yield* Stream.runCollect(docker.logs("local", "shop-job-1", { follow: false }))
          expect(logs).toEqual(["moor-fixture crashy: started, exiting with 3 in 1s", "moor-fixture crashy: crash!"])
          expect(yield* Stream.runCollect(docker.logs("local", "shop-job-1", { follow: false, tail: 1 }))).toEqual([
            "moor-fixture crashy: crash!"
          ])
        })
      )
  )

  it.effect("a config health check overrides the image's: CMD false is never healthy, NONE has none", () =>
    withEngine(
      Effect.gen(function* () {
        yield* run(
          config("shop-sick-1", "moor-fixture/app:1", {
            healthcheck: { test: ["CMD", "false"], intervalMs: 1_000, retries: 3, startPeriodMs: 2_000 }
          })
        )
        yield* run(config("shop-none-1", "moor-fixture/app:1", { healthcheck: { test: ["NONE"] } }))
        yield* TestClock.adjust(4_000)
        expect((yield* observed("shop-sick-1"))?.health).toBe("starting")
        yield* TestClock.adjust(1_000)
        // Results land at 1.5, 2.5, 3.5, 4.5 s (the app's probe takes 0.5 s). The failure inside the 2 s
        // start period does not count: the third counted one, at 4.5 s, makes it unhealthy.
        expect(yield* observed("shop-sick-1")).toMatchObject({ health: "unhealthy", unhealthySince: 4_500 })
        expect((yield* observed("shop-none-1"))?.health).toBe("none")
      })
    )
  )

  it.effect(
    "touch /tmp/unhealthy in the app makes it unhealthy after two failed probes; rm makes it healthy again",
    () =>
      withEngine(
        Effect.gen(function* () {
          const docker = yield* Docker
          yield* run(config("shop-web-1", "moor-fixture/app:1"))
          yield* TestClock.adjust(1_500)
          const touched = yield* docker.exec("local", "shop-web-1", {
            cmd: ["touch", "/tmp/unhealthy"],
            env: {},
            timeoutMs: 1_000
          })
          expect(touched).toEqual({ exitCode: 0, output: "" })
          yield* TestClock.adjust(1_000)
          expect((yield* observed("shop-web-1"))?.health).toBe("healthy")
          yield* TestClock.adjust(1_000)
          expect(yield* observed("shop-web-1")).toMatchObject({ health: "unhealthy", unhealthySince: 3_500 })
          yield* docker.exec("local", "shop-web-1", { cmd: ["rm", "-f", "/tmp/unhealthy"], env: {}, timeoutMs: 1_000 })
          yield* TestClock.adjust(1_000)
          expect((yield* observed("shop-web-1"))?.health).toBe("healthy")
        })
      )
  )

  it.effect("setHealth flips health at once and emits the engine's health_status events", () =>
    withEngine(
      Effect.gen(function* () {
        const engine = yield* MemoryEngine
        yield* run(config("shop-web-1", "moor-fixture/app:1"))
        yield* TestClock.adjust(2_000)
        yield* engine.setHealth("local", "shop-web-1", "unhealthy")
        expect(yield* observed("shop-web-1")).toMatchObject({ health: "unhealthy", unhealthySince: 2_000 })
        yield* TestClock.adjust(10_000)
        expect((yield* observed("shop-web-1"))?.health).toBe("unhealthy")
        yield* engine.setHealth("local", "shop-web-1", "healthy")
        expect((yield* observed("shop-web-1"))?.health).toBe("healthy")
        const health = (yield* engine.events("local")).filter((e) => e.action.startsWith("health_status"))
        expect(health.map((e) => e.action)).toEqual([
          "health_status: healthy",
          "health_status: unhealthy",
          "health_status: healthy"
        ])
      })
    )
  )
})

describe("DockerMemory: restart policies", () => {
  it.effect('"always" restarts a crashing container with the engine\'s doubling back-off', () =>
    withEngine(
      Effect.gen(function* () {
        yield* run(config("shop-job-1", "moor-fixture/crashy:1", { restart: "always" }))
        yield* TestClock.adjust(1_000)
        expect(yield* observed("shop-job-1")).toMatchObject({ state: "restarting", exitCode: 3, restartCount: 0 })
        yield* TestClock.adjust(100)
        expect((yield* observed("shop-job-1"))?.state).toBe("running")
        yield* TestClock.adjust(1_000) // exits again at 2.1 s, back-off now 200 ms
        yield* TestClock.adjust(199)
        expect((yield* observed("shop-job-1"))?.state).toBe("restarting")
        yield* TestClock.adjust(1)
        const docker = yield* Docker
        expect(yield* docker.inspectContainer("local", "shop-job-1")).toMatchObject({
          state: "running",
          restartCount: 2
        })
      })
    )
  )

  it.effect('"on-failure" restarts only non-zero exits; "no" never; a kill is a user stop, an OOM is not', () =>
    withEngine(
      Effect.gen(function* () {
        const engine = yield* MemoryEngine
        yield* engine.addImage({ ref: "moor-fixture/migrate:1", exit: { afterMs: 0, code: 0 } })
        yield* run(config("shop-migrate-1", "moor-fixture/migrate:1", { restart: "on-failure" }))
        yield* run(config("shop-crash-1", "moor-fixture/crashy:1", { restart: "on-failure" }))
        yield* run(config("shop-once-1", "moor-fixture/crashy:1"))
        yield* run(config("shop-web-1", "moor-fixture/app:1", { restart: "always" }))
        yield* run(config("shop-api-1", "moor-fixture/app:1", { restart: "unless-stopped" }))
        yield* TestClock.adjust(1_000)
        expect(yield* observed("shop-migrate-1")).toMatchObject({ state: "exited", exitCode: 0 })
        expect((yield* observed("shop-crash-1"))?.state).toBe("restarting")
        expect(yield* observed("shop-once-1")).toMatchObject({ state: "exited", exitCode: 3 })

        yield* engine.kill("local", "shop-web-1")
        yield* engine.oom("local", "shop-api-1")
        yield* TestClock.adjust(1)
        expect(yield* observed("shop-web-1")).toMatchObject({ state: "exited", exitCode: 137 })
        expect(yield* observed("shop-api-1")).toMatchObject({ state: "restarting", exitCode: 137 })
        yield* TestClock.adjust(100)
        expect(yield* observed("shop-api-1")).toMatchObject({ state: "running" })
        const api = (yield* engine.events("local")).filter((e) => e.name === "shop-api-1").map((e) => e.action)
        expect(api).toEqual(["create", "start", "oom", "die", "start"])
      })
    )
  )
})

describe("DockerMemory: stop, crash, pause", () => {
  it.effect("a process that ignores the stop signal is killed after the grace period (exit 137)", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        yield* engine.addImage({ ref: "stubborn:1", ignoresStop: true })
        yield* run(config("shop-stubborn-1", "stubborn:1", { stopGracePeriodMs: 5_000 }))
        const stopping = yield* Effect.forkChild(docker.stopContainer("local", "shop-stubborn-1"))
        yield* TestClock.adjust(4_999)
        expect((yield* observed("shop-stubborn-1"))?.state).toBe("running")
        yield* TestClock.adjust(1)
        yield* Fiber.join(stopping)
        expect(yield* observed("shop-stubborn-1")).toMatchObject({ state: "exited", exitCode: 137, finishedAt: 5_000 })
        const actions = (yield* engine.events("local")).map((e) => e.action)
        expect(actions).toEqual(["create", "start", "kill", "kill", "stop", "die"])
      })
    )
  )

  it.effect("crash applies the restart policy; a paused process cannot exit until unpaused", () =>
    withEngine(
      Effect.gen(function* () {
        const engine = yield* MemoryEngine
        yield* run(config("shop-web-1", "moor-fixture/app:1", { restart: "on-failure" }))
        yield* engine.crash("local", "shop-web-1", 1)
        expect((yield* observed("shop-web-1"))?.state).toBe("restarting")
        yield* TestClock.adjust(100)
        expect(yield* observed("shop-web-1")).toMatchObject({ state: "running", health: "starting" })

        yield* run(config("shop-job-1", "moor-fixture/crashy:1"))
        yield* engine.pause("local", "shop-job-1")
        yield* TestClock.adjust(5_000)
        expect(yield* observed("shop-job-1")).toMatchObject({ state: "paused", health: "none" })
        yield* engine.unpause("local", "shop-job-1")
        yield* TestClock.adjust(0)
        expect(yield* observed("shop-job-1")).toMatchObject({ state: "exited", exitCode: 3 })
      })
    )
  )
})

describe("DockerMemory: what the engine refuses", () => {
  it.effect("name conflicts, missing images, a taken host port, a missing network at start, bad renames", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const web = config("shop-web-1", "moor-fixture/app:1", {
          ports: [{ target: 8080, published: 8080, protocol: "tcp" }]
        })
        yield* run(web)
        const dup = yield* failure(docker.createContainer("local", web))
        expect(dup).toMatchObject({ kind: "conflict", status: 409, op: "container.create", host: "local" })
        expect(dup.message).toContain('create container "shop-web-1" on host "local": Conflict. The container name')

        const noImage = yield* failure(docker.createContainer("local", config("x-1", "moor-fixture/none:1")))
        expect(noImage).toMatchObject({ kind: "not-found", status: 404 })
        expect(noImage.message).toContain("No such image: moor-fixture/none:1")

        yield* docker.createContainer("local", { ...web, name: "shop-web-2" })
        const taken = yield* failure(docker.startContainer("local", "shop-web-2"))
        expect(taken).toMatchObject({ kind: "rejected", status: 500 })
        expect(taken.message).toContain("Bind for 0.0.0.0:8080 failed: port is already allocated")
        expect(yield* docker.inspectContainer("local", "shop-web-2")).toMatchObject({ state: "created", exitCode: 128 })
        yield* docker.stopContainer("local", "shop-web-1")
        yield* docker.startContainer("local", "shop-web-2")
        expect((yield* observed("shop-web-2"))?.publishedPorts).toEqual([8080])

        // Ephemeral ports: each container gets its own.
        const eph = { target: 8080, protocol: "tcp" as const }
        yield* run(config("shop-a-1", "moor-fixture/app:1", { ports: [eph] }))
        yield* run(config("shop-b-1", "moor-fixture/app:1", { ports: [eph] }))
        const a = (yield* observed("shop-a-1"))?.publishedPorts ?? []
        const b = (yield* observed("shop-b-1"))?.publishedPorts ?? []
        expect(a).toHaveLength(1)
        expect(b).toHaveLength(1)
        expect(a[0]).not.toBe(b[0])

        yield* docker.createContainer(
          "local",
          config("shop-net-1", "moor-fixture/app:1", { networks: [{ name: "shop_default", aliases: ["net"] }] })
        )
        const noNet = yield* failure(docker.startContainer("local", "shop-net-1"))
        expect(noNet).toMatchObject({ kind: "not-found" })
        expect(noNet.message).toContain("network shop_default not found")

        const same = yield* failure(docker.renameContainer("local", "shop-b-1", "shop-b-1"))
        expect(same.kind).toBe("rejected")
        const clash = yield* failure(docker.renameContainer("local", "shop-b-1", "shop-a-1"))
        expect(clash.kind).toBe("conflict")
        yield* docker.renameContainer("local", "shop-b-1", "shop-b-1-old")
        expect(yield* docker.inspectContainer("local", "shop-b-1")).toBeUndefined()
        expect((yield* docker.inspectContainer("local", "shop-b-1-old"))?.state).toBe("running")
        const missing = yield* failure(docker.startContainer("local", "nope"))
        expect(missing).toMatchObject({
          kind: "not-found",
          message: expect.stringContaining("No such container: nope")
        })
        yield* docker.removeContainer("local", "nope") // gone already: fine
      })
    )
  )

  it.effect("networks in use cannot go; volumes outlive containers with their files; duplicates like the engine", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        const labels = { "moor.scope": scope }
        yield* docker.createNetwork("local", { name: "shop_default", labels })
        expect((yield* failure(docker.createNetwork("local", { name: "shop_default", labels }))).kind).toBe("conflict")
        yield* docker.createVolume("local", { name: "shop_data", labels })
        yield* docker.createVolume("local", { name: "shop_data", labels: { other: "x" } }) // exists: no change
        const c = config("shop-db-1", "moor-fixture/app:1", {
          networks: [{ name: "shop_default", aliases: ["db"] }],
          mounts: [
            { type: "volume", source: "shop_data", target: "/data", readOnly: false },
            { type: "volume", source: "shop_cache", target: "/cache", readOnly: false }
          ]
        })
        yield* run(c)
        yield* engine.writeFile("local", "shop_data", "/data/orders.db", "42 orders")
        const busy = yield* failure(docker.removeNetwork("local", "shop_default"))
        expect(busy.kind).toBe("conflict")
        expect(busy.message).toContain("has active endpoints")
        expect((yield* failure(docker.removeVolume("local", "shop_data"))).kind).toBe("conflict")
        expect((yield* failure(docker.removeNetwork("local", "bridge"))).kind).toBe("rejected")

        yield* docker.removeContainer("local", "shop-db-1")
        const snap = yield* engine.snapshot("local")
        expect(snap.containers).toEqual([])
        expect(snap.volumes.find((v) => v.name === "shop_data")).toEqual({
          name: "shop_data",
          labels,
          files: { "/data/orders.db": "42 orders" }
        })
        // A volume named in a mount but never created is made by the engine, without labels.
        expect(snap.volumes.find((v) => v.name === "shop_cache")?.labels).toEqual({})
        yield* docker.removeNetwork("local", "shop_default")
        yield* docker.removeVolume("local", "shop_data")
        expect((yield* failure(docker.removeVolume("local", "shop_data"))).kind).toBe("not-found")
        const h = yield* docker.observe("local", scope)
        if (h._tag !== "Known") throw new Error(h.reason)
        expect(h.networks.map((n) => n.name).sort()).toEqual(["bridge", "host", "none"])
        expect(h.images.flatMap((i) => i.tags).sort()).toEqual([
          "moor-fixture/app:1",
          "moor-fixture/app:2",
          "moor-fixture/crashy:1"
        ])
      })
    )
  )

  it.effect("pull: an image no registry has fails not-found; a remote one becomes present", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        const unknown = yield* failure(docker.pull("local", "nowhere/thing:1"))
        expect(unknown).toMatchObject({ kind: "not-found", op: "image.pull" })
        expect((yield* failure(docker.pull("local", "moor-fixture/app:1"))).kind).toBe("not-found")
        yield* engine.addImage({ ref: "library/redis:7", present: false, remote: true })
        expect((yield* failure(docker.createContainer("local", config("r-1", "library/redis:7")))).kind).toBe(
          "not-found"
        )
        yield* docker.pull("local", "library/redis:7")
        yield* run(config("r-1", "library/redis:7"))
        expect((yield* observed("r-1"))?.state).toBe("running")
      })
    )
  )
})

describe("DockerMemory: hosts, failures, exec, events", () => {
  it.effect("each host reports its engine's version and API version: a current engine unless set otherwise", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        const self = (h: ObservedHost) =>
          h._tag === "Known" ? { engineVersion: h.engineVersion, apiVersion: h.apiVersion } : h.reason
        expect(self(yield* docker.observe("a", scope))).toEqual({
          engineVersion: CURRENT_ENGINE.version,
          apiVersion: CURRENT_ENGINE.apiVersion
        })
        yield* engine.setEngine("a", { version: "20.10.24", apiVersion: "1.41" })
        expect(self(yield* docker.observe("a", scope))).toEqual({ engineVersion: "20.10.24", apiVersion: "1.41" })
        expect(self(yield* docker.observe("b", scope))).toEqual({ engineVersion: "28.3.3", apiVersion: "1.51" })
        yield* engine.setEngine("b", undefined)
        const silent = yield* docker.observe("b", scope)
        expect(silent._tag === "Known" && ("engineVersion" in silent || "apiVersion" in silent)).toBe(false)
      }),
      ["a", "b"]
    )
  )

  it.effect("a host can go away and come back; the other hosts are not affected; its containers keep running", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        expect(docker.hosts).toEqual(["a", "b"])
        yield* run(config("shop-web-1", "moor-fixture/app:1"), "a")
        const events = yield* Effect.forkChild(Stream.runCollect(docker.events("a", scope)))
        while ((yield* engine.followers("a")) === 0) yield* Effect.yieldNow
        yield* engine.setReachable("a", false)
        expect(yield* docker.observe("a", scope)).toEqual({
          _tag: "Unreachable",
          host: "a",
          reason:
            'list containers on host "a": the engine at memory://a did not answer: the host is down (made unreachable by the test)'
        })
        const down = yield* failure(docker.startContainer("a", "shop-web-1"))
        expect(down.kind).toBe("unreachable")
        const broken = yield* Fiber.join(events).pipe(Effect.flip)
        expect(broken.kind).toBe("transient")
        yield* docker.ping("b")
        yield* TestClock.adjust(2_000)
        yield* engine.setReachable("a", true)
        expect(yield* observed("shop-web-1", "a")).toMatchObject({ state: "running", health: "healthy" })
        expect(find(yield* docker.observe("b", scope), "shop-web-1")).toBeUndefined()
      }),
      ["a", "b"]
    )
  )

  it.effect("failNext fails the next calls of one operation with the given kind, then lets them through", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        yield* docker.createContainer("local", config("shop-web-1", "moor-fixture/app:1"))
        yield* engine.failNext({ op: "container.start", kind: "transient", times: 2 })
        const first = yield* failure(docker.startContainer("local", "shop-web-1"))
        expect(first).toMatchObject({ kind: "transient", status: 500, op: "container.start" })
        expect(first.message).toContain("injected failure")
        expect((yield* failure(docker.startContainer("local", "shop-web-1"))).kind).toBe("transient")
        yield* docker.startContainer("local", "shop-web-1")
        yield* engine.failNext({ op: "volumes.list", kind: "unreachable" })
        expect((yield* docker.observe("local", scope))._tag).toBe("Unreachable")
        expect((yield* docker.observe("local", scope))._tag).toBe("Known")
        expect((yield* engine.calls("local"))["container.start"]).toBe(3)
      })
    )
  )

  it.effect("failRandomly is reproducible from its seed", () =>
    Effect.gen(function* () {
      const outcomes = (seed: number) =>
        withEngine(
          Effect.gen(function* () {
            const docker = yield* Docker
            const engine = yield* MemoryEngine
            yield* engine.failRandomly({ probability: 0.5, seed, ops: ["ping"], kinds: ["transient", "timeout"] })
            const out: Array<string> = []
            for (let i = 0; i < 40; i++) {
              const r = yield* Effect.result(docker.ping("local"))
              out.push(Result.isSuccess(r) ? "ok" : r.failure.kind)
            }
            return out
          })
        )
      const a = yield* outcomes(7)
      expect(yield* outcomes(7)).toEqual(a)
      expect(a).toContain("ok")
      expect(a).toContain("transient")
      expect(a).toContain("timeout")
      expect(yield* outcomes(8)).not.toEqual(a)
    })
  )

  it.effect("exec: scripted per container and command, output kept to the last 64 KiB, timeouts on the clock", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        yield* run(config("shop-web-1", "moor-fixture/app:1"))
        yield* run(config("shop-api-1", "moor-fixture/app:1"))
        yield* engine.scriptExec({ container: "shop-web-1", cmd: "migrate", result: { exitCode: 2, output: "boom\n" } })
        yield* engine.scriptExec({
          cmd: ["sh", "-c", "env"],
          result: (_cmd, env) => ({
            output: Object.entries(env)
              .map(([k, v]) => `${k}=${v}\n`)
              .join("")
          })
        })
        yield* engine.scriptExec({ cmd: "slow", result: { durationMs: 5_000 } })
        yield* engine.scriptExec({ cmd: "big", result: { output: "x".repeat(70 * 1024) } })
        const opts = { env: { APP: "shop" }, timeoutMs: 1_000 }
        expect(yield* docker.exec("local", "shop-web-1", { ...opts, cmd: ["./migrate", "up"] })).toEqual({
          exitCode: 2,
          output: "boom\n"
        })
        expect((yield* docker.exec("local", "shop-api-1", { ...opts, cmd: ["./migrate", "up"] })).exitCode).toBe(0)
        expect((yield* docker.exec("local", "shop-api-1", { ...opts, cmd: ["sh", "-c", "env"] })).output).toBe(
          "APP=shop\n"
        )
        expect((yield* docker.exec("local", "shop-api-1", { ...opts, cmd: ["big"] })).output).toHaveLength(64 * 1024)

        const slow = yield* Effect.forkChild(failure(docker.exec("local", "shop-web-1", { ...opts, cmd: ["slow"] })))
        yield* TestClock.adjust(1_000)
        const timedOut = yield* Fiber.join(slow)
        expect(timedOut.kind).toBe("timeout")
        expect(timedOut.message).toContain("did not finish within 1000 ms")

        yield* docker.stopContainer("local", "shop-api-1")
        expect((yield* failure(docker.exec("local", "shop-api-1", { ...opts, cmd: ["true"] }))).kind).toBe("conflict")
        yield* engine.pause("local", "shop-web-1")
        const paused = yield* failure(docker.exec("local", "shop-web-1", { ...opts, cmd: ["true"] }))
        expect(paused.message).toContain("is paused")
        expect((yield* failure(docker.startContainer("local", "shop-web-1"))).kind).toBe("conflict")
      })
    )
  )

  it.effect("events: this scope's start, die, destroy, health_status, oom; foreign containers only when labelled", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        const fiber = yield* Effect.forkChild(
          docker.events("local", scope).pipe(
            Stream.takeUntil((e) => e.action === "destroy"),
            Stream.runCollect
          )
        )
        while ((yield* engine.followers("local")) === 0) yield* Effect.yieldNow
        yield* engine.createForeign("local", { name: "someone-elses", image: "moor-fixture/app:1" })
        const id = yield* run(config("shop-web-1", "moor-fixture/app:1", { restart: "always" }))
        yield* TestClock.adjust(1_500)
        yield* engine.oom("local", id)
        yield* TestClock.adjust(100)
        yield* docker.removeContainer("local", id)
        const seen = yield* Fiber.join(fiber)
        expect(seen.map((e) => e.action)).toEqual([
          "create",
          "start",
          "health_status: healthy",
          "oom",
          "die",
          "start",
          "kill",
          "die",
          "destroy"
        ])
        expect(seen.every((e) => e.name === "shop-web-1" && e.containerId === id)).toBe(true)
        expect(seen[0]?.labels).toMatchObject({ "moor.scope": scope, "moor.app": "shop" })

        yield* engine.createForeign("local", {
          name: "adopted",
          image: "moor-fixture/app:1",
          labels: { "moor.scope": scope },
          state: "exited",
          exitCode: 1
        })
        const h = yield* docker.observe("local", scope)
        expect(find(h, "someone-elses")).toBeUndefined()
        expect(find(h, "adopted")).toMatchObject({ state: "exited", exitCode: 1 })
        expect((yield* engine.snapshot("local")).containers.map((c) => c.name).sort()).toEqual([
          "adopted",
          "someone-elses"
        ])
      })
    )
  )

  it.effect("logs follow until the container stops", () =>
    withEngine(
      Effect.gen(function* () {
        const docker = yield* Docker
        const engine = yield* MemoryEngine
        yield* run(config("shop-web-1", "moor-fixture/app:1"))
        const fiber = yield* Effect.forkChild(Stream.runCollect(docker.logs("local", "shop-web-1", { follow: true })))
        while ((yield* engine.followers("local")) === 0) yield* Effect.yieldNow
        yield* engine.appendLog("local", "shop-web-1", "GET / 200")
        yield* docker.stopContainer("local", "shop-web-1")
        expect(yield* Fiber.join(fiber)).toEqual(["moor-fixture app version 1 listening on :8080", "GET / 200"])
      })
    )
  )
})
