/**
 * How containers live in the in-memory engine: start (networks and host ports checked like the
 * engine does), health probes on the Clock, exits, restart policies with the engine's back-off,
 * stop/kill/remove, and the events each step emits. Timers are fibers in the layer's scope; each
 * carries the container's `generation`, so a timer of an earlier run does nothing.
 */
import { Clock, Effect, type Scope } from "effect"
import { apiAtLeast } from "../../core/engine-features.ts"
import type { DockerError } from "./Docker.ts"
import { referencedContainers } from "./create-options.ts"
import { staticProbe } from "./memory-model.ts"
import { type Container, type HostState, type PortBinding, findContainer, hexId, isLive } from "./memory-state.ts"
import { type CallContext, statusError } from "./translate-error.ts"

export interface Kit {
  readonly scope: Scope.Scope
}

const HEALTH_LOG_SIZE = 5
const BACKOFF_START_MS = 100
const BACKOFF_MAX_MS = 60_000
/** A container that ran this long before exiting restarts without back-off. */
const BACKOFF_RESET_AFTER_MS = 10_000
const EPHEMERAL_FIRST = 49_153

export const emit = (host: HostState, c: Container, action: string, at: number): void => {
  const event = { action, containerId: c.id, name: c.name, labels: c.labels, at }
  host.events.push(event)
  for (const listener of host.listeners) listener(event)
}

const endFollowers = (c: Container) => {
  for (const f of c.followers) f.end()
  c.followers.clear()
}

const appendLogs = (c: Container, lines: ReadonlyArray<string>) => {
  for (const line of lines) {
    c.logs.push(line)
    for (const f of c.followers) f.line(line)
  }
}

/** Runs `action` `delayMs` from now, if the container is still in the same run. */
const after = (kit: Kit, host: HostState, c: Container, delayMs: number, action: Effect.Effect<void>) => {
  const generation = c.generation
  return Effect.sleep(Math.max(0, delayMs)).pipe(
    Effect.andThen(
      Effect.suspend(() => (c.generation === generation && host.containers.get(c.id) === c ? action : Effect.void))
    ),
    Effect.forkIn(kit.scope),
    Effect.asVoid
  )
}

const overlaps = (a: PortBinding, b: PortBinding): boolean =>
  a.protocol === b.protocol &&
  a.hostPort === b.hostPort &&
  (a.hostIp === "" || b.hostIp === "" || a.hostIp === "0.0.0.0" || b.hostIp === "0.0.0.0" || a.hostIp === b.hostIp)

const portsInUse = (host: HostState, except: Container): Array<PortBinding> =>
  [...host.containers.values()]
    .filter((o) => o !== except && (isLive(o) || o.state === "restarting"))
    .flatMap((o) => o.ports)

/** The host ports the container binds, or the engine's error for the first one taken. */
const bindPorts = (host: HostState, c: Container): Array<PortBinding> | string => {
  const taken = portsInUse(host, c)
  const bound: Array<PortBinding> = []
  for (const p of c.config.ports) {
    const hostIp = p.hostIp ?? ""
    let hostPort = p.published
    if (hostPort === undefined) {
      hostPort = EPHEMERAL_FIRST
      while ([...taken, ...bound].some((t) => t.protocol === p.protocol && t.hostPort === hostPort)) hostPort++
    }
    const binding: PortBinding = { hostIp, hostPort, target: p.target, protocol: p.protocol }
    if ([...taken, ...bound].some((t) => overlaps(t, binding)))
      return `driver failed programming external connectivity on endpoint ${c.name} (${hexId(`${c.id}/endpoint`)}): Bind for ${hostIp === "" ? "0.0.0.0" : hostIp}:${hostPort} failed: port is already allocated`
    bound.push(binding)
  }
  return bound
}

const probePasses = (c: Container, at: number): boolean => {
  if (c.probeFails) return false
  const fixed = c.healthcheck === undefined ? undefined : staticProbe(c.healthcheck.test)
  if (fixed !== undefined) return fixed === "pass"
  if (c.image.neverHealthy === true) return false
  return at - (c.startedAt ?? at) >= (c.image.healthyAfterMs ?? 0)
}

const setHealth = (host: HostState, c: Container, health: "healthy" | "unhealthy", at: number) => {
  if (c.health === health) return
  c.health = health
  emit(host, c, `health_status: ${health}`, at)
}

/** One probe result at `at`, then the next one an interval later. */
const scheduleProbe = (kit: Kit, host: HostState, c: Container, at: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const hc = c.healthcheck
    if (hc === undefined) return
    const now = yield* Clock.currentTimeMillis
    yield* after(
      kit,
      host,
      c,
      at - now,
      Effect.suspend(() => {
        if (c.state === "running") {
          const pass = probePasses(c, at)
          c.healthLog.push({ start: at - (c.image.probeMs ?? 0), end: at, exitCode: pass ? 0 : 1 })
          if (c.healthLog.length > HEALTH_LOG_SIZE) c.healthLog.shift()
          if (pass) {
            c.failingStreak = 0
            setHealth(host, c, "healthy", at)
          } else {
            const inStartPeriod = c.health === "starting" && at - (c.startedAt ?? at) < hc.startPeriodMs
            if (!inStartPeriod) c.failingStreak++
            if (c.failingStreak >= hc.retries) setHealth(host, c, "unhealthy", at)
          }
        }
        return scheduleProbe(kit, host, c, at + hc.intervalMs)
      })
    )
  })

const scheduleExit = (kit: Kit, host: HostState, c: Container): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (c.exitAt === undefined) return
    const now = yield* Clock.currentTimeMillis
    const exitAt = c.exitAt
    const code = c.pendingExitCode
    yield* after(
      kit,
      host,
      c,
      exitAt - now,
      // A paused process cannot exit: unpause schedules it again.
      Effect.suspend(() =>
        c.state === "running" ? processExited(kit, host, c, code, { logs: c.image.exitLogs ?? [] }) : Effect.void
      )
    )
  })

/**
 * Starts the container's process: `ctx` names the call for errors. Fails like the engine when a
 * network is missing (404), a host port is taken (500) or the container whose IPC or PID namespace
 * it joins is not running (409; 500 before API 1.42); the container keeps its state then.
 */
export const startProcess = (
  kit: Kit,
  host: HostState,
  c: Container,
  ctx: CallContext
): Effect.Effect<void, DockerError> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const failStart = (status: number, message: string) => {
      c.exitCode = 128
      c.error = message
      return Effect.fail(statusError(ctx, status, message))
    }
    const missing = c.networks.find((n) => !host.networks.has(n.name))
    if (missing !== undefined) return yield* failStart(404, `network ${missing.name} not found`)
    const refs = referencedContainers(c.config.options)
    for (const [kind, ref] of [
      ["IPC", refs.ipc],
      ["PID", refs.pid]
    ] as const) {
      const joined = ref === undefined ? undefined : (findContainer(host, ref)?.id ?? ref)
      // Docker 23 and later (API 1.42) answer 409 for this; 20.10 answered 500.
      if (joined !== undefined && findContainer(host, joined)?.state !== "running")
        return yield* failStart(
          host.engine === undefined || apiAtLeast(host.engine.apiVersion, "1.42") ? 409 : 500,
          kind === "IPC"
            ? `can't join IPC of container ${joined}: container ${joined} is not running`
            : `container ${joined} is not running`
        )
    }
    const ports = bindPorts(host, c)
    if (typeof ports === "string") return yield* failStart(500, ports)
    c.generation++
    c.ports = ports
    c.state = "running"
    c.manuallyStopped = false
    c.startedAt = now
    c.exitCode = 0
    c.error = ""
    c.health = c.healthcheck === undefined ? "none" : "starting"
    c.failingStreak = 0
    c.healthLog = []
    const exit = typeof c.image.exit === "function" ? c.image.exit(c.env) : c.image.exit
    c.exitAt = exit === undefined ? undefined : now + exit.afterMs
    c.pendingExitCode = exit?.code ?? 0
    appendLogs(c, c.image.logs ?? [])
    emit(host, c, "start", now)
    yield* scheduleExit(kit, host, c)
    if (c.healthcheck !== undefined)
      yield* scheduleProbe(kit, host, c, now + c.healthcheck.intervalMs + (c.image.probeMs ?? 0))
  })

const wantsRestart = (c: Container, code: number): boolean => {
  if (c.manuallyStopped) return false
  const policy = c.config.restart ?? "no"
  return policy === "always" || policy === "unless-stopped" || (policy === "on-failure" && code !== 0)
}

/** The process ended by itself (or was killed by the kernel): the restart policy decides what follows. */
export const processExited = (
  kit: Kit,
  host: HostState,
  c: Container,
  code: number,
  options?: { readonly oom?: boolean | undefined; readonly logs?: ReadonlyArray<string> | undefined }
): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (!isLive(c)) return
    const now = yield* Clock.currentTimeMillis
    const ran = now - (c.startedAt ?? now)
    c.generation++
    c.ports = []
    c.state = "exited"
    c.exitCode = code
    c.finishedAt = now
    c.exitAt = undefined
    appendLogs(c, options?.logs ?? [])
    if (options?.oom === true) emit(host, c, "oom", now)
    emit(host, c, "die", now)
    endFollowers(c)
    if (!wantsRestart(c, code)) return
    if (ran >= BACKOFF_RESET_AFTER_MS) c.backoffMs = BACKOFF_START_MS
    const delay = c.backoffMs
    c.backoffMs = Math.min(c.backoffMs * 2, BACKOFF_MAX_MS)
    c.state = "restarting"
    yield* after(
      kit,
      host,
      c,
      delay,
      Effect.suspend(() => {
        if (c.state !== "restarting") return Effect.void
        c.restartCount++
        return startProcess(kit, host, c, { host: host.name, op: "container.start", target: c.name }).pipe(
          Effect.catch(() =>
            Effect.sync(() => {
              c.state = "exited"
            })
          )
        )
      })
    )
  })

/**
 * Stops the process like `docker stop` (signal, grace period, then kill) or `docker kill`; either way
 * a user did it, so the restart policy leaves it stopped.
 */
export const stopProcess = (
  host: HostState,
  c: Container,
  options: { readonly kill: boolean; readonly timeoutMs?: number | undefined }
): Effect.Effect<void> =>
  Effect.gen(function* () {
    c.manuallyStopped = true
    const start = yield* Clock.currentTimeMillis
    if (c.state === "restarting") {
      c.generation++
      c.state = "exited"
      emit(host, c, "stop", start)
      return
    }
    if (!isLive(c)) return
    let code = 137
    let killed = options.kill
    if (!options.kill) {
      emit(host, c, "kill", start)
      if (c.image.ignoresStop === true) {
        const generation = c.generation
        yield* Effect.sleep(options.timeoutMs ?? c.config.stopGracePeriodMs ?? 10_000)
        if (c.generation !== generation || !isLive(c)) return
        killed = true
      } else code = c.image.stopExitCode ?? 0
    }
    const now = yield* Clock.currentTimeMillis
    c.generation++
    c.ports = []
    c.state = "exited"
    c.exitCode = code
    c.finishedAt = now
    c.exitAt = undefined
    if (killed) emit(host, c, "kill", now)
    // `docker stop`: Docker 20.10 reports the exit (`die`) before the `stop`; Docker 26 the `stop` first.
    const stopFirst = !options.kill && (host.engine === undefined || apiAtLeast(host.engine.apiVersion, "1.42"))
    if (stopFirst) emit(host, c, "stop", now)
    emit(host, c, "die", now)
    if (!options.kill && !stopFirst) emit(host, c, "stop", now)
    endFollowers(c)
  })

/** Force-removes: kills a live process first; named volumes stay. */
export const removeProcess = (host: HostState, c: Container): Effect.Effect<void> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    if (isLive(c)) {
      emit(host, c, "kill", now)
      emit(host, c, "die", now)
    }
    c.generation++
    c.ports = []
    c.state = "removing"
    host.containers.delete(c.id)
    endFollowers(c)
    emit(host, c, "destroy", now)
  })

export const pauseProcess = (host: HostState, c: Container): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (c.state !== "running") return
    c.state = "paused"
    emit(host, c, "pause", yield* Clock.currentTimeMillis)
  })

export const unpauseProcess = (kit: Kit, host: HostState, c: Container): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (c.state !== "paused") return
    c.state = "running"
    emit(host, c, "unpause", yield* Clock.currentTimeMillis)
    yield* scheduleExit(kit, host, c)
  })

/** A test says the container is healthy or unhealthy now; the probe keeps failing until it is healthy again. */
export const forceHealth = (host: HostState, c: Container, health: "healthy" | "unhealthy"): Effect.Effect<void> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    c.probeFails = health === "unhealthy"
    c.failingStreak = health === "unhealthy" ? Math.max(c.failingStreak, c.healthcheck?.retries ?? 1) : 0
    c.healthLog.push({ start: now, end: now, exitCode: health === "healthy" ? 0 : 1 })
    if (c.healthLog.length > HEALTH_LOG_SIZE) c.healthLog.shift()
    setHealth(host, c, health, now)
  })

export { appendLogs }
