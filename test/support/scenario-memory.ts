/**
 * Scenarios on the in-memory engine, under the TestClock: a pass runs in a fiber while the clock
 * is moved in small steps, so health checks, exits and back-offs happen in virtual time.
 * What the fake cannot do by itself is played here and nowhere else: the fixture app's HTTP
 * answers (from the image's version label) and hook scripts (from the scenario's `fake.hooks`).
 */
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Docker } from "../../adapters/docker/Docker.ts"
import { MemoryEngine } from "../../adapters/docker/memory.ts"
import type { EngineSnapshot } from "../../adapters/docker/memory-model.ts"
import { Label } from "../../core/names.ts"
import { type ContainerView, HOST, type HttpAnswer, type ScenarioEngine } from "./scenario-engine.ts"

/** The port the fixture app listens on inside its container. */
const APP_PORT = 8080

/** How far the clock moves per step while a pass runs. */
const TICK_MS = 50

const fill = (text: string, env: Readonly<Record<string, string>>): string =>
  text.replace(/\$\{(MOOR_[A-Z_]+)\}/g, (_, name: string) => env[name] ?? "")

/** The fixture app's answers, as its busybox httpd gives them. */
const appAnswer = (version: string, path: string): HttpAnswer => {
  if (path === "/version") return { status: 200, body: `${version}\n` }
  if (path === "/" || path === "/index.html") return { status: 200, body: `moor-fixture app version ${version}\n` }
  if (path === "/healthz") return { status: 200, body: "ok\n" }
  return { status: 404, body: "404 Not Found\n" }
}

export const makeMemoryEngine: Effect.Effect<ScenarioEngine, never, Docker | MemoryEngine> = Effect.gen(function* () {
  const docker = yield* Docker
  const engine = yield* MemoryEngine
  const dockerLayer = Layer.succeed(Docker, docker)

  const times = (
    snapshot: EngineSnapshot["containers"][number],
    events: ReadonlyArray<{ action: string; containerId: string; at: number }>
  ) => {
    let startedAt: number | undefined
    let finishedAt: number | undefined
    for (const e of events) {
      if (e.containerId !== snapshot.id) continue
      if (e.action === "start") startedAt = e.at
      if (e.action === "die") finishedAt = e.at
    }
    return { startedAt, finishedAt }
  }

  const snapshot = (scope: string, foreign: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const snap = yield* engine.snapshot(HOST)
      const events = yield* engine.events(HOST)
      return snap.containers
        .filter((c) => c.labels[Label.scope] === scope || foreign.includes(c.name))
        .map((c): ContainerView => ({
          id: c.id,
          name: c.name,
          image: c.image,
          state: c.state,
          health: c.health,
          exitCode: c.state === "exited" || c.state === "dead" ? c.exitCode : undefined,
          ...times(c, events)
        }))
    })

  const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(effect)
      while (fiber.pollUnsafe() === undefined) yield* TestClock.adjust(TICK_MS)
      return yield* Fiber.join(fiber)
    })

  return {
    kind: "memory",
    docker: () => dockerLayer,
    snapshot,
    volumes: (scope) =>
      Effect.map(engine.snapshot(HOST), (s) =>
        s.volumes.filter((v) => v.labels[Label.scope] === scope).map((v) => v.name)
      ),
    kill: (name) => engine.kill(HOST, name),
    pause: (name) => engine.pause(HOST, name),
    stop: (name) => engine.stop(HOST, name),
    remove: (name) => engine.remove(HOST, name),
    unhealthy: (name) =>
      docker
        .exec(HOST, name, { cmd: ["touch", "/tmp/unhealthy"], env: {}, timeoutMs: 5_000 })
        .pipe(Effect.asVoid, Effect.orDie),
    foreign: (c) => Effect.asVoid(engine.createForeign(HOST, { name: c.name, image: c.image, labels: c.labels })),
    writeFile: (volume, path, content) => engine.writeFile(HOST, volume, path, content),
    readFile: (volume, path) =>
      Effect.map(engine.snapshot(HOST), (s) => s.volumes.find((v) => v.name === volume)?.files[path]),
    http: (target, path) =>
      Effect.map(engine.snapshot(HOST), (s) => {
        const c = s.containers.find(
          (x) =>
            x.state === "running" &&
            (target.container === undefined
              ? x.publishedPorts.includes(target.port)
              : x.name === target.container && target.port === APP_PORT)
        )
        const version = c?.labels["org.opencontainers.image.version"]
        if (c === undefined || c.labels["moor.fixture"] !== "app" || version === undefined) return undefined
        return appAnswer(version, path)
      }),
    setReachable: (reachable) => engine.setReachable(HOST, reachable),
    playHooks: (doubles) =>
      Effect.forEach(
        doubles,
        ({ content, double }) =>
          engine.scriptExec({
            cmd: (cmd) => cmd[0] === "sh" && cmd[1] === "-c" && cmd[2] === content,
            result: (_cmd, env) => {
              for (const w of double.writes ?? [])
                Effect.runSync(engine.writeFile(HOST, w.volume, fill(w.path, env), fill(w.content, env)))
              return { exitCode: double.exitCode, output: fill(double.output ?? "", env) }
            }
          }),
        { discard: true }
      ),
    sleep: (ms) => TestClock.adjust(ms),
    timed
  } satisfies ScenarioEngine
})
