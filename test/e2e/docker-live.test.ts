/**
 * The live Docker adapter against the real engines (engine A's Docker 20.10 and the current engine's
 * Docker 26), with the offline fixture images. API calls are counted on the wire by a small proxy on
 * a unix socket (test/support/docker-counting-proxy.ts): the adapter talks to the proxy as to any engine.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Result, Stream } from "effect"
import type { KnownHost, ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { Docker, type DockerError } from "../../adapters/docker/Docker.ts"
import { engineFromEnv } from "../../adapters/docker/endpoint.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { type CountingProxy, startCountingProxy } from "../support/docker-counting-proxy.ts"
import {
  baseConfig,
  cleanupScope,
  freePort,
  newScope,
  oneAtATime,
  requireFixtures,
  startHungListener,
  type TestEngine,
  testEngineA,
  testEngines
} from "../support/docker-e2e.ts"

const scope = newScope()
/** Its own scope, so that containers of other tests cannot add inspects to the count. */
const quietScope = newScope()
/** A counting proxy in front of each engine. */
const proxies = new Map<TestEngine, CountingProxy>()
const proxyOf = (engine: TestEngine): CountingProxy => proxies.get(engine)!

beforeAll(async () => {
  for (const engine of testEngines) {
    await requireFixtures(engine)
    proxies.set(engine, await startCountingProxy(engine.socketPath))
  }
})
afterAll(async () => {
  for (const engine of testEngines) {
    await proxies.get(engine)?.close()
    await cleanupScope(scope, engine)
    await cleanupScope(quietScope, engine)
  }
})

/** `local` is the engine, `counted` the same engine behind its counting proxy; the others do not answer. */
const live = (engine: TestEngine = testEngineA) =>
  DockerLive.layer([
    { name: "local", endpoint: engine.endpoint },
    { name: "counted", endpoint: proxyOf(engine).endpoint },
    { name: "nosocket", endpoint: "unix:///nonexistent.sock" },
    { name: "refused", endpoint: "tcp://127.0.0.1:1" },
    { name: "sshrefused", endpoint: "ssh://moor@127.0.0.1:1" }
  ])

const known = (h: ObservedHost): KnownHost => {
  if (h._tag !== "Known") throw new Error(`expected a known host, got: ${h.reason}`)
  return h
}
const find = (h: ObservedHost, name: string): ObservedContainer | undefined =>
  known(h).containers.find((c) => c.name === name)

/** Observes until `check` holds for the named container, up to `ms`. */
const observeUntil = (
  host: string,
  name: string,
  check: (c: ObservedContainer | undefined) => boolean,
  ms = 15_000,
  inScope = scope
) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const started = Date.now()
    while (true) {
      const c = find(yield* docker.observe(host, inScope), name)
      if (check(c)) return c
      if (Date.now() - started > ms)
        throw new Error(`${name} did not reach the expected state in ${ms} ms: ${JSON.stringify(c)}`)
      yield* Effect.sleep(250)
    }
  })

const failure = <A>(effect: Effect.Effect<A, DockerError, Docker>) =>
  Effect.gen(function* () {
    const r = yield* Effect.result(effect)
    if (Result.isSuccess(r)) throw new Error(`expected a failure, got a success: ${JSON.stringify(r.success)}`)
    return r.failure
  })

describe.concurrent.each(testEngines)("DockerLive against $label", (engine) => {
  it.live(
    "creates networks, a volume and a container, runs it to healthy, execs, renames, stops, removes",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const port = yield* Effect.promise(freePort)
        const labels = { "moor.scope": scope }
        yield* docker.createNetwork("local", { name: `${scope}_front`, labels })
        yield* docker.createNetwork("local", { name: `${scope}_back`, labels })
        yield* docker.createVolume("local", { name: `${scope}_data`, labels })
        const name = `${scope}-web-1`
        const config: ContainerConfig = {
          ...baseConfig(scope, name, "moor-fixture/app:1"),
          env: [
            ["MESSAGE", "hello from moor"],
            ["PORT", "8080"]
          ],
          labels: { ...labels, "moor.app": "web", team: "blue" },
          ports: [{ target: 8080, published: port, hostIp: engine.publishAddress, protocol: "tcp" }],
          mounts: [{ type: "volume", source: `${scope}_data`, target: "/data", readOnly: false }],
          networks: [
            { name: `${scope}_back`, aliases: ["web", "api"] },
            { name: `${scope}_front`, aliases: ["web"] }
          ]
        }
        const id = yield* docker.createContainer("local", config)
        expect(id).toMatch(/^[0-9a-f]{64}$/)

        const inspected = yield* Effect.promise(() => engine.raw.getContainer(id).inspect())
        expect(Object.keys(inspected.NetworkSettings.Networks).sort()).toEqual([`${scope}_back`, `${scope}_front`])
        expect(inspected.NetworkSettings.Networks[`${scope}_back`]?.Aliases).toEqual(
          expect.arrayContaining(["web", "api"])
        )
        expect(inspected.NetworkSettings.Networks[`${scope}_front`]?.Aliases).toEqual(expect.arrayContaining(["web"]))
        expect(inspected.Config.Env).toEqual(expect.arrayContaining(["MESSAGE=hello from moor", "PORT=8080"]))
        expect(inspected.Config.Labels).toMatchObject({ "moor.app": "web", team: "blue" })
        expect(inspected.HostConfig.PortBindings).toEqual({
          "8080/tcp": [{ HostIp: engine.publishAddress, HostPort: String(port) }]
        })
        expect(inspected.Mounts.map((m) => [m.Type, m.Name, m.Destination, m.RW])).toEqual([
          ["volume", `${scope}_data`, "/data", true]
        ])

        const created = find(yield* docker.observe("local", scope), name)
        expect(created).toMatchObject({ id, state: "created", image: "moor-fixture/app:1", labels: { team: "blue" } })

        yield* docker.startContainer("local", name)
        yield* docker.startContainer("local", name) // already running: fine
        const running = find(yield* docker.observe("local", scope), name)
        expect(running?.state).toBe("running")
        expect(running?.publishedPorts).toEqual([port])
        const healthy = yield* observeUntil("local", name, (c) => c?.health === "healthy")
        expect(healthy?.state).toBe("running")
        const page = yield* Effect.promise(() =>
          fetch(`http://${engine.publishAddress}:${port}/`).then((r) => r.text())
        )
        expect(page).toContain("message: hello from moor")

        const ran = yield* docker.exec("local", name, {
          cmd: ["sh", "-c", 'echo "out $GREETING"; echo err >&2; exit 3'],
          env: { GREETING: "hi" },
          timeoutMs: 10_000
        })
        expect(ran.exitCode).toBe(3)
        expect(ran.output).toContain("out hi\n")
        expect(ran.output).toContain("err\n")

        const big = yield* docker.exec("local", name, {
          cmd: ["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"],
          env: {},
          timeoutMs: 20_000
        })
        expect(big.exitCode).toBe(0)
        expect(Buffer.byteLength(big.output)).toBeLessThanOrEqual(64 * 1024)
        expect(big.output.endsWith("line-2999-xxxxxxxxxxxxxxxxxxxxxxxx\n")).toBe(true)

        const t0 = Date.now()
        const slow = yield* failure(docker.exec("local", name, { cmd: ["sleep", "5"], env: {}, timeoutMs: 500 }))
        expect(Date.now() - t0).toBeLessThan(3_000)
        expect(slow.kind).toBe("timeout")
        expect(slow.message).toContain("did not finish within 500 ms")
        expect(slow.message).toContain('"local"')

        yield* docker.renameContainer("local", name, `${name}-old`)
        expect(yield* docker.inspectContainer("local", name)).toBeUndefined()
        const renamed = yield* docker.inspectContainer("local", `${name}-old`)
        expect(renamed).toMatchObject({ id, name: `${name}-old`, state: "running", health: "healthy", restartCount: 0 })
        expect(renamed?.startedAt).toBeGreaterThan(0)

        yield* docker.stopContainer("local", id, 5_000)
        yield* docker.stopContainer("local", id, 5_000) // already stopped: fine
        const stopped = yield* docker.inspectContainer("local", id)
        expect(stopped).toMatchObject({ state: "exited", exitCode: 0, health: "none" })
        expect(stopped?.finishedAt).toBeGreaterThanOrEqual(stopped?.startedAt ?? Number.POSITIVE_INFINITY)

        yield* docker.removeContainer("local", id)
        yield* docker.removeContainer("local", id) // already gone: fine
        expect(yield* docker.inspectContainer("local", id)).toBeUndefined()
        // Force-remove leaves the named volume alone.
        const volumes = known(yield* docker.observe("local", scope)).volumes.map((v) => v.name)
        expect(volumes).toContain(`${scope}_data`)

        yield* docker.removeNetwork("local", `${scope}_front`)
        yield* docker.removeVolume("local", `${scope}_data`)
        const after = known(yield* docker.observe("local", scope))
        expect(after.networks.map((n) => n.name)).not.toContain(`${scope}_front`)
        expect(after.networks.find((n) => n.name === `${scope}_back`)?.labels).toEqual(labels)
        expect(after.volumes.map((v) => v.name)).not.toContain(`${scope}_data`)
        expect(after.images.some((i) => i.tags.includes("moor-fixture/app:1"))).toBe(true)
      }).pipe(Effect.provide(live(engine))),
    oneAtATime
  )

  it.live(
    "a quiet observe costs exactly four API calls; each container not in a steady state one inspect more",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const name = `${quietScope}-quiet-1`
        yield* docker.createContainer("local", baseConfig(quietScope, name, "moor-fixture/app:1"))
        yield* docker.startContainer("local", name)
        yield* observeUntil("local", name, (c) => c?.health === "healthy", 15_000, quietScope)
        const plain = `${quietScope}-plain-1`
        yield* docker.createContainer("local", {
          ...baseConfig(quietScope, plain, "moor-fixture/app:1"),
          healthcheck: { test: ["NONE"] }
        })
        yield* docker.startContainer("local", plain)

        const proxy = proxyOf(engine)
        yield* docker.observe("counted", quietScope) // the first observe also asks the engine's version, once
        proxy.reset()
        const quiet = known(yield* docker.observe("counted", quietScope))
        expect([...proxy.requests()].sort()).toEqual([
          "GET /containers/json",
          "GET /images/json",
          "GET /networks",
          "GET /volumes"
        ])
        expect(quiet.containers.find((c) => c.name === plain)).toMatchObject({ state: "running", health: "none" })
        expect(quiet.containers.find((c) => c.name === name)).toMatchObject({ state: "running", health: "healthy" })

        const crashy = `${quietScope}-crashy-1`
        yield* docker.createContainer("local", baseConfig(quietScope, crashy, "moor-fixture/crashy:1"))
        yield* docker.startContainer("local", crashy)
        const exited = yield* observeUntil("local", crashy, (c) => c?.state === "exited", 15_000, quietScope)
        expect(exited).toMatchObject({ exitCode: 3, restartCount: 0, health: "none" })
        expect(exited?.finishedAt).toBeGreaterThan(exited?.startedAt ?? Number.POSITIVE_INFINITY)

        proxy.reset()
        yield* docker.observe("counted", quietScope)
        expect(proxy.requests().filter((r) => /^GET \/containers\/[0-9a-f]{64}\/json$/.test(r))).toHaveLength(1)
        expect(proxy.requests()).toHaveLength(5)
      }).pipe(Effect.provide(live(engine))),
    oneAtATime
  )

  it.live(
    "an unhealthy container is observed with the time it turned unhealthy",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const name = `${scope}-sick-1`
        yield* docker.createContainer("local", baseConfig(scope, name, "moor-fixture/app:1"))
        yield* docker.startContainer("local", name)
        yield* observeUntil("local", name, (c) => c?.health === "healthy")
        const before = Date.now()
        yield* docker.exec("local", name, { cmd: ["touch", "/tmp/unhealthy"], env: {}, timeoutMs: 5_000 })
        const sick = yield* observeUntil("local", name, (c) => c?.health === "unhealthy")
        expect(sick?.unhealthySince).toBeGreaterThanOrEqual(before - 1_000)
        expect(sick?.unhealthySince).toBeLessThanOrEqual(Date.now())
        expect(sick?.restartCount).toBe(0)
      }).pipe(Effect.provide(live(engine))),
    oneAtATime
  )

  it.live(
    "engine errors keep their meaning: 409 conflict, 404 not-found, network with endpoints, fast failing pull",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const name = `${scope}-dup-1`
        const net = `${scope}_busy`
        yield* docker.createNetwork("local", { name: net, labels: { "moor.scope": scope } })
        const dupNet = yield* failure(docker.createNetwork("local", { name: net, labels: { "moor.scope": scope } }))
        expect(dupNet.kind).toBe("conflict")
        const config = { ...baseConfig(scope, name, "moor-fixture/app:1"), networks: [{ name: net, aliases: [] }] }
        yield* docker.createContainer("local", config)
        const dup = yield* failure(docker.createContainer("local", config))
        expect(dup).toMatchObject({ kind: "conflict", status: 409, host: "local", op: "container.create" })
        expect(dup.message).toContain(`create container "${name}" on host "local"`)
        expect(dup.message).toContain("already in use")

        const missing = yield* failure(docker.startContainer("local", `${scope}-missing`))
        expect(missing.kind).toBe("not-found")
        const noImage = yield* failure(
          docker.createContainer("local", baseConfig(scope, `${scope}-x`, "moor-fixture/none:9"))
        )
        expect(noImage.kind).toBe("not-found")
        expect(noImage.message).toContain("No such image")

        yield* docker.startContainer("local", name)
        const busy = yield* failure(docker.removeNetwork("local", net))
        expect(busy.kind).toBe("conflict")
        expect(busy.message).toContain("active endpoints")

        // A network that does not exist: the engine takes the create (and the connect) and fails the start.
        const half = `${scope}-half-1`
        yield* docker.createContainer("local", {
          ...baseConfig(scope, half, "moor-fixture/app:1"),
          networks: [
            { name: net, aliases: [] },
            { name: `${scope}_nonexistent`, aliases: [] }
          ]
        })
        const halfErr = yield* failure(docker.startContainer("local", half))
        expect(halfErr.kind).toBe("not-found")
        expect(halfErr.message).toContain(`network ${scope}_nonexistent not found`)
        expect(yield* docker.inspectContainer("local", half)).toMatchObject({ state: "created" })

        const t0 = Date.now()
        const pull = yield* failure(docker.pull("local", "moor-fixture/does-not-exist:1"))
        expect(Date.now() - t0).toBeLessThan(10_000)
        expect(["not-found", "transient", "rejected"]).toContain(pull.kind)
        expect(pull.message).toContain('pull image "moor-fixture/does-not-exist:1" on host "local"')
        yield* docker.pull("local", "moor-fixture/app:1").pipe(Effect.ignore) // present locally: either way, no hang
      }).pipe(Effect.provide(live(engine))),
    oneAtATime
  )

  it.live(
    "events: start, health_status and die after a kill, for this scope only; logs as lines",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const name = `${scope}-ev-1`
        const seen = yield* Effect.forkChild(
          docker.events("local", scope).pipe(
            Stream.takeUntil((e) => e.action === "die" && e.name === name),
            Stream.runCollect
          )
        )
        yield* Effect.sleep(500)
        const id = yield* docker.createContainer("local", {
          ...baseConfig(scope, name, "moor-fixture/app:1"),
          labels: { "moor.scope": scope, "moor.app": "ev" }
        })
        yield* docker.startContainer("local", name)
        yield* observeUntil("local", name, (c) => c?.health === "healthy")
        yield* Effect.promise(() => engine.raw.getContainer(id).kill())
        const events = yield* Fiber.join(seen).pipe(Effect.timeout(15_000))
        const actions = events.filter((e) => e.name === name).map((e) => e.action)
        expect(actions).toEqual(expect.arrayContaining(["create", "start", "health_status: healthy", "kill", "die"]))
        expect(actions.some((a) => a.startsWith("exec_"))).toBe(false)
        const die = events.find((e) => e.action === "die")
        expect(die).toMatchObject({ containerId: id, name, labels: { "moor.scope": scope, "moor.app": "ev" } })
        expect(die?.at).toBeGreaterThan(Date.now() - 60_000)

        const crashy = `${scope}-logs-1`
        yield* docker.createContainer("local", baseConfig(scope, crashy, "moor-fixture/crashy:1"))
        yield* docker.startContainer("local", crashy)
        const followed = yield* docker
          .logs("local", crashy, { follow: true })
          .pipe(Stream.runCollect, Effect.timeout(10_000))
        expect(followed.length).toBeGreaterThan(0)
        const all = yield* docker.logs("local", crashy, { follow: false }).pipe(Stream.runCollect)
        const tail = yield* docker.logs("local", crashy, { follow: false, tail: 1 }).pipe(Stream.runCollect)
        expect(all).toEqual(followed)
        expect(tail).toEqual(followed.slice(-1))
        const missing = yield* failure(Stream.runCollect(docker.logs("local", `${scope}-nope`, { follow: false })))
        expect(missing.kind).toBe("not-found")
      }).pipe(Effect.provide(live(engine))),
    oneAtATime
  )
})

describe("DockerLive when an engine cannot be reached or configured", () => {
  it.live("an engine that does not answer is Unreachable within seconds, and its calls fail as unreachable", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      for (const host of ["nosocket", "refused", "sshrefused"]) {
        const t0 = Date.now()
        const h = yield* docker.observe(host, scope)
        expect(Date.now() - t0).toBeLessThan(4_000)
        expect(h._tag).toBe("Unreachable")
        if (h._tag === "Unreachable") expect(h.reason).toMatch(/did not answer/)
        const e = yield* failure(docker.ping(host))
        expect(e.kind).toBe("unreachable")
        expect(e.host).toBe(host)
      }
      const noSocket = yield* failure(docker.ping("nosocket"))
      expect(noSocket.message).toContain("unix:///nonexistent.sock")
      expect(noSocket.message).toContain("ENOENT")
      const refused = yield* failure(docker.startContainer("refused", "x"))
      expect(refused.message).toContain("tcp://127.0.0.1:1")
      expect(refused.message).toContain("ECONNREFUSED")
      const ssh = yield* failure(docker.ping("sshrefused"))
      expect(ssh.message).toContain("ssh://moor@127.0.0.1:1")
      const unknown = yield* failure(docker.ping("nowhere"))
      expect(unknown.message).toContain('host "nowhere" is not configured')
    }).pipe(Effect.provide(live()))
  )

  it.live("an engine that accepts no connection is reported within the 3 s connect timeout", () =>
    Effect.gen(function* () {
      // A listener whose backlog is full: the kernel drops further SYNs, so a connect hangs.
      const hung = yield* Effect.acquireRelease(Effect.promise(startHungListener), (h) => Effect.sync(() => h.stop()))
      const docker = yield* Effect.provide(
        Effect.gen(function* () {
          return yield* Docker
        }),
        DockerLive.layer([{ name: "hung", endpoint: `tcp://127.0.0.1:${hung.port}` }])
      )
      const t0 = Date.now()
      const h = yield* docker.observe("hung", scope)
      const took = Date.now() - t0
      expect(took).toBeGreaterThanOrEqual(2_900)
      expect(took).toBeLessThan(4_500)
      expect(h).toMatchObject({ _tag: "Unreachable", host: "hung" })
      if (h._tag === "Unreachable") expect(h.reason).toContain("no connection within 3000 ms")
    }).pipe(Effect.scoped)
  )

  it.live("a malformed endpoint or unreadable TLS file fails the layer with a clear message", () =>
    Effect.gen(function* () {
      const bad = (engines: Parameters<typeof DockerLive.layer>[0]) =>
        Effect.gen(function* () {
          const r = yield* Effect.result(
            Effect.provide(
              Effect.gen(function* () {
                return yield* Docker
              }),
              DockerLive.layer(engines)
            )
          )
          if (Result.isSuccess(r)) throw new Error("expected the layer to fail")
          return r.failure.message
        })
      expect(yield* bad([{ name: "a", endpoint: "http://x:1" }])).toMatch(
        /engine "a": endpoint "http:\/\/x:1" has the unsupported scheme/
      )
      expect(yield* bad([{ name: "a", endpoint: "tcp://host" }])).toMatch(/needs a port/)
      expect(yield* bad([{ name: "a", endpoint: "unix://relative.sock" }])).toMatch(/absolute socket path/)
      expect(yield* bad([{ name: "a", endpoint: "tcp://h:2376", tls: { ca: "/nonexistent/ca.pem" } }])).toMatch(
        /cannot read the TLS ca file "\/nonexistent\/ca.pem"/
      )
      expect(yield* bad([{ name: "a" }, { name: "a" }])).toMatch(/declared twice/)
      expect(yield* bad([{ name: "a", endpoint: "ssh://u:secret@h" }])).toMatch(/password/)

      // Like the docker CLI: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH (default ~/.docker).
      expect(engineFromEnv("local", {}, "/home/u")).toEqual({ name: "local", endpoint: "unix:///var/run/docker.sock" })
      expect(engineFromEnv("local", { DOCKER_HOST: "tcp://h:2375" }, "/home/u")).toEqual({
        name: "local",
        endpoint: "tcp://h:2375"
      })
      expect(engineFromEnv("local", { DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1" }, "/home/u")).toEqual({
        name: "local",
        endpoint: "tcp://h:2376",
        tls: {
          ca: "/home/u/.docker/ca.pem",
          cert: "/home/u/.docker/cert.pem",
          key: "/home/u/.docker/key.pem",
          verify: true
        }
      })
      const fromEnv = yield* Effect.provide(
        Effect.gen(function* () {
          const docker = yield* Docker
          yield* docker.ping("local")
          return docker.hosts
        }),
        DockerLive.layerFromEnv
      )
      expect(fromEnv).toEqual(["local"])
    })
  )
})
