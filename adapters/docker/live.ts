/**
 * The `Docker` service on real engines, through dockerode. One `Connection` per host name; every
 * call is bounded in time (connect 3 s, operations 60 s, pulls 15 min) and its failure translated
 * once (translate-error.ts).
 */
import { Effect, Layer, Result, Schedule, type Stream } from "effect"
import type { KnownHost, ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { imageKey, Label, normalizeImage } from "../../core/names.ts"
import {
  Docker,
  DockerError,
  type DockerShape,
  type EngineEvent,
  isRetryable,
  type NetworkSpec,
  type VolumeSpec
} from "./Docker.ts"
import { type Connection, OPERATION_TIMEOUT_MS, PULL_TIMEOUT_MS, call, connect } from "./connection.ts"
import { createBody } from "./create-body.ts"
import { makeLiveLock } from "./live-lock.ts"
import { makeLiveNetworks } from "./live-networks.ts"
import { type EngineConfig, engineFromEnv } from "./endpoint.ts"
import { execIn, followEvents, followLogs, followPull } from "./live-streams.ts"
import {
  arr,
  containerFromInspect,
  containerFromList,
  type EngineSelf,
  engineFromVersion,
  imageFromList,
  needsInspect,
  networkFromList,
  rec,
  str,
  volumeFromList
} from "./parse-engine.ts"
import { type CallContext, type EngineCall, engineError } from "./translate-error.ts"

const enc = encodeURIComponent

const configError = (host: string, message: string) =>
  new DockerError({ host, op: "configure", kind: "rejected", message })

/** `moor-fixture/app:1` -> fromImage + tag; a digest reference is passed whole; the platform when one is asked for. */
export const pullQuery = (image: string, platform?: string): Record<string, string> => {
  const ref = normalizeImage(image)
  const forPlatform = platform === undefined ? {} : { platform }
  // By digest: `name:tag@sha256:...` is pulled as `name@sha256:...` (the engine refuses both at once).
  if (ref.includes("@")) return { fromImage: imageKey(ref), ...forPlatform }
  const colon = ref.lastIndexOf(":")
  return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1), ...forPlatform }
}

export const makeDockerLive = (engines: ReadonlyArray<EngineConfig>): Effect.Effect<DockerShape, DockerError> =>
  Effect.gen(function* () {
    if (engines.length === 0) return yield* configError("", "no engines configured: give at least one host")
    const conns = new Map<string, Connection>()
    for (const engine of engines) {
      if (engine.name.trim() === "") return yield* configError(engine.name, "an engine has an empty host name")
      if (conns.has(engine.name)) return yield* configError(engine.name, `host "${engine.name}" is declared twice`)
      const conn = connect(engine)
      if (Result.isFailure(conn)) return yield* configError(engine.name, conn.failure)
      conns.set(engine.name, conn.success)
    }
    const hosts = engines.map((e) => e.name)

    const use = (host: string, op: EngineCall, target?: string) => {
      const conn = conns.get(host)
      const ctx: CallContext = { host, op, target, endpoint: conn?.endpoint }
      return conn === undefined
        ? Effect.fail(
            engineError(ctx, "rejected", `host "${host}" is not configured (configured: ${hosts.join(", ")})`)
          )
        : Effect.succeed({ conn, ctx })
    }

    const inspectRaw = (host: string, ref: string) =>
      Effect.flatMap(use(host, "container.inspect", ref), ({ conn, ctx }) =>
        call(conn, ctx, { method: "GET", path: `/containers/${enc(ref)}/json` })
      )

    const inspectContainer = Effect.fn("Docker.inspectContainer")(function* (host: string, ref: string) {
      const raw = yield* inspectRaw(host, ref).pipe(
        Effect.catchIf(
          (e) => e.kind === "not-found",
          () => Effect.succeed(undefined)
        )
      )
      return raw === undefined ? undefined : containerFromInspect(raw)
    })

    /**
     * What each engine says of itself, asked once per connection: the first observe asks, later ones
     * reuse it; a host that stops answering is asked again once it is back (it may have been upgraded).
     * Not knowing it is no reason to call a host unreachable: the observation goes without it.
     */
    const selves = new Map<string, EngineSelf>()
    const engineSelf = (host: string): Effect.Effect<EngineSelf> => {
      const known = selves.get(host)
      if (known !== undefined) return Effect.succeed(known)
      return Effect.flatMap(use(host, "version"), ({ conn, ctx }) =>
        call(conn, ctx, { method: "GET", path: "/version" })
      ).pipe(
        Effect.map(engineFromVersion),
        Effect.tap((self) => Effect.sync(() => selves.set(host, self))),
        Effect.catch(() => Effect.succeed<EngineSelf>({}))
      )
    }

    const observeKnown = (host: string, scope: string): Effect.Effect<KnownHost, DockerError> =>
      Effect.gen(function* () {
        // A list that fails transiently (a reset connection, a 5xx) is asked again before the host is
        // called unreachable; one that cannot connect at all is not.
        const list = (op: EngineCall, path: string, query?: Record<string, unknown>) =>
          Effect.flatMap(use(host, op), ({ conn, ctx }) => call(conn, ctx, { method: "GET", path, query })).pipe(
            Effect.retry({ times: 2, schedule: Schedule.exponential("100 millis"), while: isRetryable })
          )
        const [containers, volumes, networks, images, self] = yield* Effect.all(
          [
            // Every container: this scope's are observed, the others' names are held (a fixed container_name).
            list("containers.list", "/containers/json", { all: true }),
            list("volumes.list", "/volumes"),
            list("networks.list", "/networks"),
            list("images.list", "/images/json"),
            engineSelf(host)
          ],
          { concurrency: "unbounded" }
        )
        const all = arr(containers).map(containerFromList)
        const listed = all.filter((c) => c.labels[Label.scope] === scope)
        const otherNames = all.filter((c) => c.labels[Label.scope] !== scope).map((c) => c.name)
        const observed = yield* Effect.forEach(
          listed,
          (c): Effect.Effect<ReadonlyArray<ObservedContainer>> =>
            needsInspect(c)
              ? inspectRaw(host, c.id).pipe(
                  Effect.map((raw) => [containerFromInspect(raw)]),
                  // Gone since the list: it is not there any more. Any other failure: the list's view.
                  Effect.catch((e) => Effect.succeed(e.kind === "not-found" ? [] : [c]))
                )
              : Effect.succeed([c]),
          { concurrency: 4 }
        )
        return {
          _tag: "Known" as const,
          host,
          ...self,
          containers: observed.flat(),
          ...(otherNames.length === 0 ? {} : { otherNames: otherNames.sort() }),
          volumes: arr(rec(volumes).Volumes).map(volumeFromList),
          networks: arr(networks).map(networkFromList),
          images: arr(images).map(imageFromList)
        }
      })

    const observe = Effect.fn("Docker.observe")(function* (host: string, scope: string) {
      const result = yield* Effect.result(observeKnown(host, scope))
      if (Result.isFailure(result)) selves.delete(host)
      const observed: ObservedHost = Result.isSuccess(result)
        ? result.success
        : { _tag: "Unreachable", host, reason: result.failure.message }
      return observed
    })

    const simple = (host: string, op: EngineCall, target: string | undefined, options: Parameters<typeof call>[2]) =>
      Effect.flatMap(use(host, op, target), ({ conn, ctx }) => call(conn, ctx, options))

    const removeContainer = Effect.fn("Docker.removeContainer")(function* (host: string, ref: string) {
      yield* simple(host, "container.remove", ref, {
        method: "DELETE",
        path: `/containers/${enc(ref)}`,
        query: { force: true },
        alsoOk: [404]
      })
    })

    const createContainer = Effect.fn("Docker.createContainer")(function* (host: string, config: ContainerConfig) {
      const { body, connect: more, query } = createBody(config)
      const created = yield* simple(host, "container.create", config.name, {
        method: "POST",
        path: "/containers/create",
        query: { name: config.name, ...query },
        body
      })
      const id = str(rec(created).Id)
      if (id === undefined) {
        const { ctx } = yield* use(host, "container.create", config.name)
        return yield* engineError(ctx, "transient", "the engine answered without a container id")
      }
      for (const n of more) {
        yield* simple(host, "network.connect", n.network, {
          method: "POST",
          path: `/networks/${enc(n.network)}/connect`,
          body: { Container: id, EndpointConfig: n.endpoint }
        }).pipe(
          // A container on only some of its networks is not what was asked for: take it away again.
          Effect.tapError(() => Effect.ignore(removeContainer(host, id)))
        )
      }
      return id
    })

    const stopContainer = Effect.fn("Docker.stopContainer")(function* (host: string, ref: string, timeoutMs?: number) {
      const seconds = timeoutMs === undefined ? undefined : Math.max(0, Math.ceil(timeoutMs / 1000))
      yield* simple(host, "container.stop", ref, {
        method: "POST",
        path: `/containers/${enc(ref)}/stop`,
        query: seconds === undefined ? {} : { t: seconds },
        alsoOk: [304],
        // The engine answers once the container is down: the grace period, then a kill.
        timeoutMs: (seconds ?? 300) * 1000 + OPERATION_TIMEOUT_MS
      })
    })

    const networks = makeLiveNetworks(use)

    const shape: DockerShape = {
      hosts,
      observe,
      ping: Effect.fn("Docker.ping")(function* (host: string) {
        yield* simple(host, "ping", undefined, { method: "GET", path: "/_ping" })
      }),
      pull: Effect.fn("Docker.pull")(function* (host: string, image: string, platform?: string) {
        const { conn, ctx } = yield* use(host, "image.pull", image)
        yield* followPull(conn, ctx, pullQuery(image, platform)).pipe(
          Effect.timeoutOrElse({
            duration: PULL_TIMEOUT_MS,
            orElse: () =>
              Effect.fail(engineError(ctx, "timeout", `not done within ${PULL_TIMEOUT_MS / 60_000} minutes`))
          })
        )
      }),
      createNetwork: Effect.fn("Docker.createNetwork")(function* (host: string, spec: NetworkSpec) {
        yield* networks.createNetwork(host, spec)
      }),
      removeNetwork: Effect.fn("Docker.removeNetwork")(function* (host: string, name: string) {
        yield* networks.removeNetwork(host, name)
      }),
      createVolume: Effect.fn("Docker.createVolume")(function* (host: string, spec: VolumeSpec) {
        yield* simple(host, "volume.create", spec.name, {
          method: "POST",
          path: "/volumes/create",
          body: {
            Name: spec.name,
            ...(spec.driver === undefined ? {} : { Driver: spec.driver }),
            ...(spec.driverOpts === undefined ? {} : { DriverOpts: spec.driverOpts }),
            Labels: spec.labels
          }
        })
      }),
      removeVolume: Effect.fn("Docker.removeVolume")(function* (host: string, name: string) {
        yield* simple(host, "volume.remove", name, { method: "DELETE", path: `/volumes/${enc(name)}` })
      }),
      createContainer,
      startContainer: Effect.fn("Docker.startContainer")(function* (host: string, ref: string) {
        // Its networks are named by name until it starts: duplicates of one are folded first.
        yield* networks.unambiguous(
          host,
          simple(host, "container.start", ref, {
            method: "POST",
            path: `/containers/${enc(ref)}/start`,
            alsoOk: [304]
          })
        )
      }),
      stopContainer,
      removeContainer,
      renameContainer: Effect.fn("Docker.renameContainer")(function* (host: string, ref: string, to: string) {
        yield* simple(host, "container.rename", ref, {
          method: "POST",
          path: `/containers/${enc(ref)}/rename`,
          query: { name: to }
        })
      }),
      inspectContainer,
      exec: Effect.fn("Docker.exec")(function* (host, ref, options) {
        const { conn, ctx } = yield* use(host, "exec.create", ref)
        return yield* execIn(conn, ctx, options)
      }),
      logs: (host, ref, options): Stream.Stream<string, DockerError> =>
        followLogs(use(host, "container.logs", ref), options),
      events: (host, scope): Stream.Stream<EngineEvent, DockerError> => followEvents(use(host, "events", scope), scope),
      ...makeLiveLock(use)
    }
    return shape
  })

export const DockerLive = {
  make: makeDockerLive,
  /** The engines moor talks to, by host name. A malformed endpoint or unreadable TLS file fails the layer. */
  layer: (engines: ReadonlyArray<EngineConfig>): Layer.Layer<Docker, DockerError> =>
    Layer.effect(Docker, makeDockerLive(engines)),
  /** One host, `local`, reached like the docker CLI would (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). */
  layerFromEnv: Layer.effect(
    Docker,
    Effect.suspend(() => makeDockerLive([engineFromEnv("local", process.env)]))
  )
}
