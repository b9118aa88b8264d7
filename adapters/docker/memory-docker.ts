/**
 * The `Docker` service over the in-memory engine. Every engine call passes the gate: it is counted,
 * fails when its host is unreachable or a failure is injected, and is otherwise answered with the
 * engine's status codes and messages. Observations are rendered as the engine's JSON and read by
 * the live adapter's parsers.
 */
import { Cause, Clock, Effect, Queue, Stream } from "effect"
import type { ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { normalizeImage } from "../../core/names.ts"
import type { DockerError, DockerShape, EngineEvent, ExecOptions, ExecResult } from "./Docker.ts"
import { referencedContainers } from "./create-options.ts"
import { EVENT_ACTIONS, EXEC_OUTPUT_LIMIT } from "./live-streams.ts"
import { makeMemoryLock } from "./memory-lock.ts"
import { type Kit, emit, removeProcess, startProcess, stopProcess } from "./memory-lifecycle.ts"
import type { ExecOutcome, ExecScript, FailNext, FailRandomly } from "./memory-model.ts"
import {
  type Container,
  type HostState,
  findContainer,
  hexId,
  inspectJson,
  isLive,
  listJson,
  networkJson,
  newContainer
} from "./memory-state.ts"
import {
  containerFromInspect,
  containerFromList,
  imageFromList,
  needsInspect,
  networkFromList,
  volumeFromList
} from "./parse-engine.ts"
import { TailBuffer } from "./stream-io.ts"
import { type CallContext, type EngineCall, engineError, statusError, unreachableReason } from "./translate-error.ts"

export interface World {
  readonly kit: Kit
  readonly hosts: Map<string, HostState>
  readonly order: ReadonlyArray<string>
  readonly counts: Map<string, Map<EngineCall, number>>
  readonly failNext: Array<{ readonly rule: FailNext; remaining: number }>
  readonly random: Array<{ readonly rule: FailRandomly; readonly next: () => number }>
  readonly scripts: Array<{ readonly host: string | undefined; readonly script: ExecScript; remaining: number }>
}

const statusOfKind: Partial<Record<DockerError["kind"], number>> = {
  "not-found": 404,
  conflict: 409,
  transient: 500,
  rejected: 400
}

const injected = (ctx: CallContext, kind: DockerError["kind"], message: string | undefined): DockerError => {
  const text = `injected failure: ${message ?? kind}`
  if (kind === "unreachable") return engineError(ctx, kind, unreachableReason(ctx, text))
  const status = statusOfKind[kind]
  return status === undefined
    ? engineError(ctx, kind, text)
    : engineError(ctx, kind, `${text} (HTTP ${status})`, status)
}

/** Counts the call, then fails it when the host is down or a failure is injected. */
export const gate = (world: World, host: string, op: EngineCall, target?: string) =>
  Effect.suspend((): Effect.Effect<{ readonly h: HostState; readonly ctx: CallContext }, DockerError> => {
    const h = world.hosts.get(host)
    const ctx: CallContext = { host, op, target, endpoint: `memory://${host}` }
    if (h === undefined)
      return Effect.fail(
        engineError(ctx, "rejected", `host "${host}" is not configured (configured: ${world.order.join(", ")})`)
      )
    const counts = world.counts.get(host) ?? new Map<EngineCall, number>()
    counts.set(op, (counts.get(op) ?? 0) + 1)
    world.counts.set(host, counts)
    if (!h.reachable)
      return Effect.fail(
        engineError(ctx, "unreachable", unreachableReason(ctx, "the host is down (made unreachable by the test)"))
      )
    const next = world.failNext.find((f) => f.rule.op === op && (f.rule.host ?? host) === host && f.remaining > 0)
    if (next !== undefined) {
      next.remaining--
      return Effect.fail(injected(ctx, next.rule.kind, next.rule.message))
    }
    for (const r of world.random) {
      if ((r.rule.host ?? host) !== host || (r.rule.ops !== undefined && !r.rule.ops.includes(op))) continue
      if (r.next() < r.rule.probability) {
        const kinds = r.rule.kinds ?? ["transient"]
        const kind = kinds[Math.floor(r.next() * kinds.length)] ?? "transient"
        return Effect.fail(injected(ctx, kind, `random (seed ${r.rule.seed})`))
      }
    }
    return Effect.succeed({ h, ctx })
  })

const noSuchContainer = (ctx: CallContext, ref: string) => statusError(ctx, 404, `No such container: ${ref}`)

const lookup = (h: HostState, ctx: CallContext, ref: string) => {
  const c = findContainer(h, ref)
  return c === undefined ? Effect.fail(noSuchContainer(ctx, ref)) : Effect.succeed(c)
}

const validName = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
const nameConflict = (name: string, holder: Container) =>
  `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`

const matches = (script: ExecScript, name: string, cmd: ReadonlyArray<string>): boolean => {
  const c = script.container
  if (c !== undefined && (typeof c === "string" ? c !== name : !c(name))) return false
  const m = script.cmd
  if (m === undefined) return true
  if (typeof m === "function") return m(cmd)
  if (typeof m === "string") return cmd.join(" ").includes(m)
  return m.length === cmd.length && m.every((x, i) => x === cmd[i])
}

/** The fixture app's `touch /tmp/unhealthy` / `rm /tmp/unhealthy`, as the real image does. */
const builtinExec = (c: Container, cmd: ReadonlyArray<string>): ExecOutcome => {
  const file = c.image.unhealthyFile
  const line = cmd.join(" ")
  if (file !== undefined && line.includes(file)) {
    if (/\btouch\b/.test(line)) c.probeFails = true
    else if (/\brm\b/.test(line)) c.probeFails = false
  }
  return {}
}

const lastBytes = (text: string): string => {
  const tail = new TailBuffer(EXEC_OUTPUT_LIMIT)
  tail.push(Buffer.from(text, "utf8"))
  return tail.text()
}

const wantedEvent = (e: EngineEvent, scope: string): boolean =>
  e.labels["moor.scope"] === scope &&
  EVENT_ACTIONS.some((a) => e.action === a || (a === "health_status" && e.action.startsWith("health_status")))

export const makeMemoryDocker = (world: World): DockerShape => {
  const { kit } = world

  const observeKnown = (host: string, scope: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const [{ h }] = yield* Effect.all([
        gate(world, host, "containers.list"),
        gate(world, host, "volumes.list"),
        gate(world, host, "networks.list"),
        gate(world, host, "images.list")
      ])
      const inScope = [...h.containers.values()].filter((c) => c.labels["moor.scope"] === scope)
      const otherNames = [...h.containers.values()].filter((c) => c.labels["moor.scope"] !== scope).map((c) => c.name)
      const containers: Array<ObservedContainer> = []
      for (const c of inScope) {
        const listed = containerFromList(listJson(h, c, now))
        if (!needsInspect(listed)) {
          containers.push(listed)
          continue
        }
        // Like the live adapter: gone since the list (removed, or the engine says so), it is not
        // there any more; any other failure leaves the list's view.
        const inspected = yield* Effect.result(gate(world, host, "container.inspect", c.id))
        if (inspected._tag === "Success") {
          if (h.containers.get(c.id) === c) containers.push(containerFromInspect(inspectJson(c)))
        } else if (inspected.failure.kind !== "not-found") containers.push(listed)
      }
      const tagsById = new Map<string, Array<string>>()
      for (const [ref, image] of h.images)
        if (image.present !== false) tagsById.set(image.id, [...(tagsById.get(image.id) ?? []), ref])
      return {
        _tag: "Known" as const,
        host,
        ...(h.engine === undefined ? {} : { engineVersion: h.engine.version, apiVersion: h.engine.apiVersion }),
        containers,
        ...(otherNames.length === 0 ? {} : { otherNames: otherNames.sort() }),
        volumes: [...h.volumes.values()].map((v) => volumeFromList({ Name: v.name, Labels: v.labels })),
        networks: [...h.networks.values()].map((n) => networkFromList(networkJson(n))),
        images: [...tagsById].map(([Id, RepoTags]) => imageFromList({ Id, RepoTags }))
      }
    })

  const removeContainer = Effect.fn("Docker.removeContainer")(function* (host: string, ref: string) {
    const { h } = yield* gate(world, host, "container.remove", ref)
    const c = findContainer(h, ref)
    if (c !== undefined) yield* removeProcess(h, c)
  })

  const createContainer = Effect.fn("Docker.createContainer")(function* (host: string, config: ContainerConfig) {
    const { h, ctx } = yield* gate(world, host, "container.create", config.name)
    if (!validName.test(config.name))
      return yield* statusError(
        ctx,
        400,
        `Invalid container name (${config.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`
      )
    const holder = findContainer(h, config.name)
    if (holder !== undefined && holder.name === config.name)
      return yield* statusError(ctx, 409, nameConflict(config.name, holder))
    const image = h.images.get(normalizeImage(config.image))
    if (image === undefined || image.present === false)
      return yield* statusError(ctx, 404, `No such image: ${config.image}`)
    const refs = referencedContainers(config.options)
    const unknown = [...refs.volumesFrom, refs.ipc, refs.pid].find((r) => r !== undefined && !findContainer(h, r))
    if (unknown !== undefined) return yield* statusError(ctx, 400, `No such container: ${unknown}`)
    const now = yield* Clock.currentTimeMillis
    h.counter++
    const id = hexId(`${host}/container/${h.counter}/${config.name}`)
    for (const m of config.mounts) {
      if (m.type !== "volume") continue
      const name = m.source ?? hexId(`${id}/anonymous/${m.target}`)
      if (!h.volumes.has(name)) h.volumes.set(name, { name, labels: {}, files: new Map() })
    }
    const c = newContainer({
      id,
      config,
      image,
      labels: { ...image.labels, ...config.labels },
      env: Object.fromEntries(config.env),
      networks: config.networks.map((n) => ({ name: n.name, aliases: n.aliases })),
      createdAt: now
    })
    h.containers.set(id, c)
    emit(h, c, "create", now)
    // Like the live adapter: the first network at create, one connect call per further network.
    for (const n of config.networks.slice(1))
      yield* gate(world, host, "network.connect", n.name).pipe(
        Effect.tapError(() => Effect.ignore(removeContainer(host, id)))
      )
    return id
  })

  const exec = Effect.fn("Docker.exec")(function* (host: string, ref: string, options: ExecOptions) {
    const { h, ctx } = yield* gate(world, host, "exec.create", ref)
    const c = yield* lookup(h, ctx, ref)
    if (c.state === "paused")
      return yield* statusError(ctx, 409, `Container ${c.name} is paused, unpause the container before exec`)
    if (c.state !== "running") return yield* statusError(ctx, 409, `Container ${c.id} is not running`)
    const { ctx: startCtx } = yield* gate(world, host, "exec.start", ref)
    const entry = world.scripts.find(
      (s) => (s.host ?? host) === host && s.remaining > 0 && matches(s.script, c.name, options.cmd)
    )
    if (entry !== undefined) entry.remaining--
    const builtin = builtinExec(c, options.cmd)
    const script = entry?.script.result
    const outcome =
      script === undefined ? builtin : typeof script === "function" ? script(options.cmd, options.env, c.name) : script
    const duration = outcome.durationMs ?? 0
    if (duration > options.timeoutMs) {
      yield* Effect.sleep(options.timeoutMs)
      return yield* engineError(
        startCtx,
        "timeout",
        `${JSON.stringify(options.cmd)} did not finish within ${options.timeoutMs} ms (the engine cannot stop an exec: the command may still be running in the container)`
      )
    }
    if (duration > 0) yield* Effect.sleep(duration)
    yield* gate(world, host, "exec.inspect", ref)
    const result: ExecResult = { exitCode: outcome.exitCode ?? 0, output: lastBytes(outcome.output ?? "") }
    return result
  })

  /** A stream fed by `register`, ended with a transient error when the host goes away. */
  const following = <A>(
    host: string,
    op: EngineCall,
    target: string,
    register: (
      h: HostState,
      ctx: CallContext,
      push: (a: A) => void,
      end: () => void
    ) => Effect.Effect<() => void, DockerError>
  ): Stream.Stream<A, DockerError> =>
    Stream.callback<A, DockerError>((queue) =>
      Effect.gen(function* () {
        const { h, ctx } = yield* gate(world, host, op, target)
        const unregister = yield* register(
          h,
          ctx,
          (a) => {
            Queue.offerUnsafe(queue, a)
          },
          () => {
            Queue.endUnsafe(queue)
          }
        )
        const breaker = () =>
          Queue.failCauseUnsafe(
            queue,
            Cause.fail(engineError(ctx, "transient", "the connection broke: the host went away (ECONNRESET)"))
          )
        h.breakers.add(breaker)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            h.breakers.delete(breaker)
            unregister()
          })
        )
      })
    )

  const shape: DockerShape = {
    hosts: world.order,
    observe: Effect.fn("Docker.observe")(function* (host: string, scope: string) {
      const result = yield* Effect.result(observeKnown(host, scope))
      const observed: ObservedHost =
        result._tag === "Success" ? result.success : { _tag: "Unreachable", host, reason: result.failure.message }
      return observed
    }),
    ping: Effect.fn("Docker.ping")(function* (host: string) {
      yield* gate(world, host, "ping")
    }),
    pull: Effect.fn("Docker.pull")(function* (host: string, image: string) {
      const { h, ctx } = yield* gate(world, host, "image.pull", image)
      const ref = normalizeImage(image)
      const known = h.images.get(ref)
      if (known === undefined || known.remote !== true) {
        const repo = ref.includes("@") ? ref.slice(0, ref.indexOf("@")) : ref.slice(0, ref.lastIndexOf(":"))
        return yield* statusError(
          ctx,
          404,
          `pull access denied for ${repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`
        )
      }
      h.images.set(ref, { ...known, present: true })
    }),
    createNetwork: Effect.fn("Docker.createNetwork")(function* (host: string, spec) {
      const { h, ctx } = yield* gate(world, host, "network.create", spec.name)
      if (h.networks.has(spec.name))
        return yield* statusError(ctx, 409, `network with name ${spec.name} already exists`)
      h.counter++
      h.networks.set(spec.name, {
        name: spec.name,
        id: hexId(`${host}/network/${h.counter}/${spec.name}`),
        labels: spec.labels,
        predefined: false,
        spec
      })
    }),
    removeNetwork: Effect.fn("Docker.removeNetwork")(function* (host: string, name: string) {
      const { h, ctx } = yield* gate(world, host, "network.remove", name)
      const n = h.networks.get(name)
      if (n === undefined) return yield* statusError(ctx, 404, `network ${name} not found`)
      if (n.predefined) return yield* statusError(ctx, 403, `${name} is a pre-defined network and cannot be removed`)
      const attached = [...h.containers.values()].some((c) => isLive(c) && c.networks.some((cn) => cn.name === name))
      if (attached)
        return yield* statusError(
          ctx,
          403,
          `error while removing network: network ${name} id ${n.id} has active endpoints`
        )
      h.networks.delete(name)
    }),
    createVolume: Effect.fn("Docker.createVolume")(function* (host: string, spec) {
      const { h } = yield* gate(world, host, "volume.create", spec.name)
      // Like the engine: creating a volume that exists succeeds and changes nothing.
      if (!h.volumes.has(spec.name))
        h.volumes.set(spec.name, { name: spec.name, labels: spec.labels, files: new Map() })
    }),
    removeVolume: Effect.fn("Docker.removeVolume")(function* (host: string, name: string) {
      const { h, ctx } = yield* gate(world, host, "volume.remove", name)
      if (!h.volumes.has(name)) return yield* statusError(ctx, 404, `get ${name}: no such volume`)
      const users = [...h.containers.values()].filter((c) =>
        c.config.mounts.some((m) => m.type === "volume" && m.source === name)
      )
      if (users.length > 0)
        return yield* statusError(ctx, 409, `remove ${name}: volume is in use - [${users.map((c) => c.id).join(", ")}]`)
      h.volumes.delete(name)
    }),
    createContainer,
    startContainer: Effect.fn("Docker.startContainer")(function* (host: string, ref: string) {
      const { h, ctx } = yield* gate(world, host, "container.start", ref)
      const c = yield* lookup(h, ctx, ref)
      if (c.state === "running" || c.state === "restarting") return
      if (c.state === "paused")
        return yield* statusError(ctx, 409, "cannot start a paused container, try unpause instead")
      yield* startProcess(kit, h, c, ctx)
    }),
    stopContainer: Effect.fn("Docker.stopContainer")(function* (host: string, ref: string, timeoutMs?: number) {
      const { h, ctx } = yield* gate(world, host, "container.stop", ref)
      const c = yield* lookup(h, ctx, ref)
      yield* stopProcess(h, c, { kill: false, timeoutMs })
    }),
    removeContainer,
    renameContainer: Effect.fn("Docker.renameContainer")(function* (host: string, ref: string, to: string) {
      const { h, ctx } = yield* gate(world, host, "container.rename", ref)
      const c = yield* lookup(h, ctx, ref)
      if (c.name === to)
        return yield* statusError(ctx, 400, "Renaming a container with the same name as its current name")
      if (!validName.test(to))
        return yield* statusError(
          ctx,
          400,
          `Error when allocating new name: Invalid container name (/${to}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`
        )
      const holder = findContainer(h, to)
      if (holder !== undefined && holder.name === to)
        return yield* statusError(ctx, 409, `Error when allocating new name: ${nameConflict(to, holder)}`)
      c.name = to
      emit(h, c, "rename", yield* Clock.currentTimeMillis)
    }),
    inspectContainer: Effect.fn("Docker.inspectContainer")(function* (host: string, ref: string) {
      const { h } = yield* gate(world, host, "container.inspect", ref)
      const c = findContainer(h, ref)
      return c === undefined ? undefined : containerFromInspect(inspectJson(c))
    }),
    exec,
    logs: (host, ref, options) =>
      following<string>(host, "container.logs", ref, (h, ctx, push, end) =>
        Effect.gen(function* () {
          const c = yield* lookup(h, ctx, ref)
          const lines = options.tail === undefined ? c.logs : options.tail === 0 ? [] : c.logs.slice(-options.tail)
          for (const l of lines) push(l)
          if (!options.follow || !isLive(c)) {
            end()
            return () => {}
          }
          const follower = { line: push, end }
          c.followers.add(follower)
          return () => {
            c.followers.delete(follower)
          }
        })
      ),
    events: (host, scope) =>
      following<EngineEvent>(host, "events", scope, (h, _ctx, push) =>
        Effect.sync(() => {
          const listener = (e: EngineEvent) => {
            if (wantedEvent(e, scope)) push(e)
          }
          h.listeners.add(listener)
          return () => {
            h.listeners.delete(listener)
          }
        })
      ),
    ...makeMemoryLock((host, op, target) => gate(world, host, op, target))
  }
  return shape
}
