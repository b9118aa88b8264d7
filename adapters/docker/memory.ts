/**
 * An in-memory Docker engine (several hosts) behind the `Docker` service, and `MemoryEngine`, the
 * handle tests and scenarios use to act on it the way the world acts on a real engine: processes
 * that crash or get killed, hosts that go away, health that flips, failures on chosen calls. Time is
 * Effect's `Clock`: under `TestClock` health transitions, exits and restarts happen when the test
 * moves the clock.
 *
 *   Effect.provide(DockerMemory.layer({ hosts: ["a", "b"] }))   // provides Docker and MemoryEngine
 */
import { Clock, Context, Effect, Layer } from "effect"
import type { EngineEvent } from "./Docker.ts"
import { Docker } from "./Docker.ts"
import { type World, makeMemoryDocker } from "./memory-docker.ts"
import {
  type Kit,
  appendLogs,
  forceHealth,
  pauseProcess,
  processExited,
  removeProcess,
  startProcess,
  stopProcess,
  unpauseProcess
} from "./memory-lifecycle.ts"
import {
  type EngineSnapshot,
  type EngineVersion,
  type ExecScript,
  type FailNext,
  type FailRandomly,
  type MemoryImage,
  fixtureImages
} from "./memory-model.ts"
import {
  type Container,
  type HostState,
  findContainer,
  hexId,
  imageIdOf,
  newContainer,
  newHost,
  snapshotOf
} from "./memory-state.ts"
import type { EngineCall } from "./translate-error.ts"
import { normalizeImage } from "../../core/names.ts"

export type {
  EngineSnapshot,
  EngineVersion,
  ExecOutcome,
  ExecScript,
  FailNext,
  FailRandomly,
  MemoryImage
} from "./memory-model.ts"
export { CURRENT_ENGINE, fixtureImages } from "./memory-model.ts"

export interface DockerMemoryOptions {
  /** Host names, in order. Default: ["local"]. */
  readonly hosts?: ReadonlyArray<string> | undefined
  /** Images on every host. Default: the fixture images; these are added to them. */
  readonly images?: ReadonlyArray<MemoryImage> | undefined
  /** Leave the fixture images out. */
  readonly withoutFixtures?: boolean | undefined
  /** What every host's engine reports of itself. Default: a current one (`CURRENT_ENGINE`). */
  readonly engine?: EngineVersion | undefined
}

/** A container made behind moor's back (another tool, a person). */
export interface ForeignContainer {
  readonly name: string
  readonly image: string
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** Default "running". */
  readonly state?: "created" | "running" | "exited" | undefined
  readonly exitCode?: number | undefined
}

export interface MemoryEngineShape {
  readonly hosts: ReadonlyArray<string>
  /** An unreachable host fails every call with `unreachable` (its containers keep running). */
  readonly setReachable: (host: string, reachable: boolean) => Effect.Effect<void>
  /** What the host's engine reports of itself from now on (undefined: nothing, like an engine that does not say). */
  readonly setEngine: (host: string, engine: EngineVersion | undefined) => Effect.Effect<void>
  /** Adds or replaces an image (on one host, or all when `host` is undefined). */
  readonly addImage: (image: MemoryImage, host?: string) => Effect.Effect<void>
  readonly removeImage: (host: string, ref: string) => Effect.Effect<void>
  /** `docker kill`: exit 137; a user did it, so the restart policy leaves it stopped. */
  readonly kill: (host: string, ref: string) => Effect.Effect<void>
  /** `docker stop`: the image's stop exit code (0 for the fixtures). */
  readonly stop: (host: string, ref: string) => Effect.Effect<void>
  /** The process exits by itself with `exitCode`: the restart policy applies. */
  readonly crash: (host: string, ref: string, exitCode: number) => Effect.Effect<void>
  /** The kernel kills it for memory: `oom` then `die`, exit 137, the restart policy applies. */
  readonly oom: (host: string, ref: string) => Effect.Effect<void>
  readonly pause: (host: string, ref: string) => Effect.Effect<void>
  readonly unpause: (host: string, ref: string) => Effect.Effect<void>
  /** `docker start` behind moor's back. */
  readonly start: (host: string, ref: string) => Effect.Effect<void>
  readonly remove: (host: string, ref: string) => Effect.Effect<void>
  /** Health now; `unhealthy` keeps the probe failing until `healthy`. */
  readonly setHealth: (host: string, ref: string, health: "healthy" | "unhealthy") => Effect.Effect<void>
  /** Returns the id. */
  readonly createForeign: (host: string, container: ForeignContainer) => Effect.Effect<string>
  readonly failNext: (rule: FailNext) => Effect.Effect<void>
  readonly failRandomly: (rule: FailRandomly) => Effect.Effect<void>
  readonly clearFailures: Effect.Effect<void>
  /** Calls per engine operation on `host` since the start or the last `resetCalls`. */
  readonly calls: (host: string) => Effect.Effect<Readonly<Partial<Record<EngineCall, number>>>>
  readonly resetCalls: Effect.Effect<void>
  readonly snapshot: (host: string) => Effect.Effect<EngineSnapshot>
  /** Scripted exec results, first match wins (default: exit 0, no output). */
  readonly scriptExec: (script: ExecScript, host?: string) => Effect.Effect<void>
  readonly writeFile: (host: string, volume: string, path: string, content: string) => Effect.Effect<void>
  readonly appendLog: (host: string, ref: string, line: string) => Effect.Effect<void>
  /** Every event the host emitted, all scopes. */
  readonly events: (host: string) => Effect.Effect<ReadonlyArray<EngineEvent>>
  /** Open event or log streams on the host (to wait until a stream is following). */
  readonly followers: (host: string) => Effect.Effect<number>
}

export class MemoryEngine extends Context.Service<MemoryEngine, MemoryEngineShape>()("moor/MemoryEngine") {}

/** mulberry32: small, seeded, good enough to pick failures reproducibly. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const misuse = (message: string) => Effect.die(new Error(`MemoryEngine: ${message}`))

const make = (options: DockerMemoryOptions) =>
  Effect.gen(function* () {
    const order = options.hosts ?? ["local"]
    if (order.length === 0 || new Set(order).size !== order.length)
      return yield* misuse(`hosts must be distinct and at least one: ${JSON.stringify(order)}`)
    const images = [...(options.withoutFixtures === true ? [] : fixtureImages), ...(options.images ?? [])]
    const kit: Kit = { scope: yield* Effect.scope }
    const world: World = {
      kit,
      hosts: new Map(order.map((h) => [h, newHost(h, images, options.engine)])),
      order,
      counts: new Map(),
      failNext: [],
      random: [],
      scripts: []
    }
    const hostOf = (host: string): Effect.Effect<HostState> => {
      const h = world.hosts.get(host)
      return h === undefined ? misuse(`no host "${host}" (hosts: ${order.join(", ")})`) : Effect.succeed(h)
    }
    const withContainer = <A>(host: string, ref: string, f: (h: HostState, c: Container) => Effect.Effect<A>) =>
      Effect.flatMap(hostOf(host), (h) => {
        const c = findContainer(h, ref)
        return c === undefined ? misuse(`no container "${ref}" on host "${host}"`) : f(h, c)
      })

    const control: MemoryEngineShape = {
      hosts: order,
      setReachable: (host, reachable) =>
        Effect.flatMap(hostOf(host), (h) =>
          Effect.sync(() => {
            h.reachable = reachable
            if (!reachable) for (const b of [...h.breakers]) b()
          })
        ),
      setEngine: (host, engine) =>
        Effect.flatMap(hostOf(host), (h) =>
          Effect.sync(() => {
            h.engine = engine
          })
        ),
      addImage: (image, host) =>
        Effect.gen(function* () {
          const targets = host === undefined ? [...world.hosts.values()] : [yield* hostOf(host)]
          for (const h of targets) h.images.set(normalizeImage(image.ref), { ...image, id: imageIdOf(image) })
        }),
      removeImage: (host, ref) =>
        Effect.flatMap(hostOf(host), (h) =>
          Effect.sync(() => {
            h.images.delete(normalizeImage(ref))
          })
        ),
      kill: (host, ref) => withContainer(host, ref, (h, c) => stopProcess(h, c, { kill: true })),
      stop: (host, ref) => withContainer(host, ref, (h, c) => stopProcess(h, c, { kill: false })),
      crash: (host, ref, exitCode) => withContainer(host, ref, (h, c) => processExited(kit, h, c, exitCode)),
      oom: (host, ref) => withContainer(host, ref, (h, c) => processExited(kit, h, c, 137, { oom: true })),
      pause: (host, ref) => withContainer(host, ref, pauseProcess),
      unpause: (host, ref) => withContainer(host, ref, (h, c) => unpauseProcess(kit, h, c)),
      start: (host, ref) =>
        withContainer(host, ref, (h, c) =>
          startProcess(kit, h, c, { host, op: "container.start", target: c.name }).pipe(
            Effect.catch((e) => misuse(`cannot start "${ref}": ${e.message}`))
          )
        ),
      remove: (host, ref) => withContainer(host, ref, removeProcess),
      setHealth: (host, ref, health) =>
        withContainer(host, ref, (h, c) =>
          c.healthcheck === undefined || c.state !== "running"
            ? misuse(`"${ref}" on "${host}" has no running health check (state ${c.state})`)
            : forceHealth(h, c, health)
        ),
      createForeign: (host, foreign) =>
        Effect.gen(function* () {
          const h = yield* hostOf(host)
          if (findContainer(h, foreign.name) !== undefined)
            return yield* misuse(`name "${foreign.name}" is taken on "${host}"`)
          const ref = normalizeImage(foreign.image)
          const image = h.images.get(ref) ?? { ref, id: imageIdOf({ ref }) }
          const now = yield* Clock.currentTimeMillis
          h.counter++
          const config = {
            name: foreign.name,
            image: foreign.image,
            env: [],
            labels: foreign.labels ?? {},
            ports: [],
            mounts: [],
            networks: []
          }
          const c = newContainer({
            id: hexId(`${host}/container/${h.counter}/${foreign.name}`),
            config,
            image,
            labels: { ...image.labels, ...foreign.labels },
            env: {},
            networks: [],
            createdAt: now
          })
          h.containers.set(c.id, c)
          const wanted = foreign.state ?? "running"
          if (wanted !== "created") {
            yield* startProcess(kit, h, c, { host, op: "container.start", target: c.name }).pipe(
              Effect.catch((e) => misuse(`cannot start foreign "${foreign.name}": ${e.message}`))
            )
            if (wanted === "exited") yield* processExited(kit, h, c, foreign.exitCode ?? 0)
          }
          return c.id
        }),
      failNext: (rule) =>
        Effect.sync(() => {
          world.failNext.push({ rule, remaining: rule.times ?? 1 })
        }),
      failRandomly: (rule) =>
        Effect.sync(() => {
          world.random.push({ rule, next: seeded(rule.seed) })
        }),
      clearFailures: Effect.sync(() => {
        world.failNext.length = 0
        world.random.length = 0
      }),
      calls: (host) =>
        Effect.flatMap(hostOf(host), () => Effect.sync(() => Object.fromEntries(world.counts.get(host) ?? new Map()))),
      resetCalls: Effect.sync(() => world.counts.clear()),
      snapshot: (host) => Effect.map(hostOf(host), snapshotOf),
      scriptExec: (script, host) =>
        Effect.sync(() => {
          world.scripts.push({ host, script, remaining: script.times ?? Number.POSITIVE_INFINITY })
        }),
      writeFile: (host, volume, path, content) =>
        Effect.flatMap(hostOf(host), (h) => {
          const v = h.volumes.get(volume)
          return v === undefined
            ? misuse(`no volume "${volume}" on "${host}"`)
            : Effect.sync(() => {
                v.files.set(path, content)
              })
        }),
      appendLog: (host, ref, line) => withContainer(host, ref, (_h, c) => Effect.sync(() => appendLogs(c, [line]))),
      events: (host) => Effect.map(hostOf(host), (h) => [...h.events]),
      followers: (host) => Effect.map(hostOf(host), (h) => h.breakers.size)
    }
    return { docker: makeMemoryDocker(world), control }
  })

export const DockerMemory = {
  /** `Docker` and `MemoryEngine` over one in-memory engine; its timers live as long as the layer. */
  layer: (options: DockerMemoryOptions = {}): Layer.Layer<Docker | MemoryEngine> =>
    Layer.effectContext(
      Effect.map(make(options), ({ docker, control }) =>
        Context.make(Docker, docker).pipe(Context.add(MemoryEngine, control))
      )
    )
}
