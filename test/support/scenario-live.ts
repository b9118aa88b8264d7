/**
 * Scenarios on a real engine (engine A, or the current engine: `TestEngine`): passes through
 * `DockerLive`, the world's doings through dockerode (kill, pause, stop, remove, foreign containers
 * started and waited for until healthy, and a one-shot helper that mounts a volume to write or read
 * its files). Everything made here carries `moor.scope=<scope>` (moor's own) or
 * `scenario.owner=<scope>` (the scenario's), and is removed by those labels.
 */
import type Dockerode from "dockerode"
import { Effect, Layer } from "effect"
import { DockerLive } from "../../adapters/docker/live.ts"
import type { ContainerState, Health } from "../../core/model/observed.ts"
import { cleanupScope, type TestEngine } from "./docker-e2e.ts"
import {
  type ContainerView,
  type ForeignContainer,
  HOST,
  type HttpTarget,
  type ScenarioEngine
} from "./scenario-engine.ts"

/** Labels what a scenario makes itself (foreign containers, helpers), for clean-up. */
export const OWNER_LABEL = "scenario.owner"
/** Scopes of scenarios start with this; a run that crashed leaves them behind. */
export const SCOPE_PREFIX = "scn-"
const HELPER_IMAGE = "moor-fixture/app:1"
const UNREACHABLE_ENDPOINT = "unix:///nonexistent/moor-scenario.sock"

const containerStates: ReadonlySet<string> = new Set([
  "created",
  "running",
  "paused",
  "restarting",
  "exited",
  "dead",
  "removing"
])
const healths: ReadonlySet<string> = new Set(["starting", "healthy", "unhealthy"])

const epoch = (iso: string | undefined): number | undefined => {
  if (iso === undefined || iso.startsWith("0001-")) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : ms
}

const view = async (raw: Dockerode, ref: string): Promise<ContainerView | undefined> => {
  const info = await raw
    .getContainer(ref)
    .inspect()
    .catch((e: { statusCode?: number }) => {
      if (e.statusCode === 404) return undefined
      throw e
    })
  if (info === undefined) return undefined
  const state = info.State.Status
  const health = info.State.Health?.Status ?? "none"
  if (!containerStates.has(state)) throw new Error(`${ref}: unknown state ${state}`)
  const stopped = state === "exited" || state === "dead"
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ""),
    image: info.Config.Image,
    state: state as ContainerState,
    health: (healths.has(health) ? health : "none") as Health,
    exitCode: stopped ? info.State.ExitCode : undefined,
    startedAt: epoch(info.State.StartedAt),
    finishedAt: epoch(info.State.FinishedAt)
  }
}

/**
 * Runs `script` (sh) in a throwaway container that mounts `volume` at /v: its exit code and output.
 * Plain dockerode (create, start, wait, logs): a one-shot is all it takes.
 */
const inVolume = async (raw: Dockerode, scope: string, volume: string, script: string) => {
  const helper = await raw.createContainer({
    Image: HELPER_IMAGE,
    Cmd: ["sh", "-c", script],
    Labels: { [OWNER_LABEL]: scope },
    Healthcheck: { Test: ["NONE"] },
    HostConfig: { Binds: [`${volume}:/v`] }
  })
  try {
    await helper.start()
    const { StatusCode } = (await helper.wait()) as { StatusCode: number }
    const logs = await helper.logs({ stdout: true, stderr: false })
    return { exitCode: StatusCode, output: demux(logs) }
  } finally {
    await helper.remove({ force: true }).catch(() => undefined)
  }
}

/** The payload of the engine's multiplexed log stream (8-byte frame headers). */
const demux = (buffer: Buffer): string => {
  const parts: Array<Buffer> = []
  let at = 0
  while (at + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(at + 4)
    parts.push(buffer.subarray(at + 8, at + 8 + size))
    at += 8 + size
  }
  return Buffer.concat(parts).toString("utf8")
}

/**
 * The fixture app's own health check with a 10 s timeout instead of 3 s, as the scenarios' Compose
 * files declare it: on a loaded engine a slow probe must not make a container flap to unhealthy.
 */
const TOLERANT_HEALTHCHECK = {
  Test: ["CMD", "/bin/moor-healthcheck"],
  Interval: 1_000_000_000,
  Timeout: 10_000_000_000,
  Retries: 2,
  StartPeriod: 5_000_000_000
}
const FOREIGN_HEALTHY_MS = 30_000

/** A container made behind moor's back, started; a fixture app is waited for until healthy. */
const startForeign = async (raw: Dockerode, scope: string, c: ForeignContainer) => {
  const app = c.image.startsWith("moor-fixture/app:")
  const container = await raw.createContainer({
    name: c.name,
    Image: c.image,
    Labels: { ...c.labels, [OWNER_LABEL]: scope },
    ...(app ? { Healthcheck: TOLERANT_HEALTHCHECK } : {})
  })
  await container.start()
  if (!app) return
  const deadline = Date.now() + FOREIGN_HEALTHY_MS
  for (;;) {
    const health = (await container.inspect()).State.Health?.Status
    if (health === "healthy") return
    if (Date.now() > deadline) throw new Error(`foreign container ${c.name} not healthy within 30 s (${health})`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/** The container's address on its first network (this machine reaches every test engine's networks). */
const addressOf = async (raw: Dockerode, name: string): Promise<string | undefined> => {
  const info = await raw
    .getContainer(name)
    .inspect()
    .catch(() => undefined)
  const networks = Object.values(info?.NetworkSettings.Networks ?? {})
  return networks.map((n) => n.IPAddress).find((ip) => ip !== "")
}

/** A host port on the engine's publish address, or a port of a container on its own address. */
const fetchText = async (engine: TestEngine, target: HttpTarget, path: string) => {
  const host = target.container === undefined ? engine.publishAddress : await addressOf(engine.raw, target.container)
  if (host === undefined) return undefined
  try {
    const res = await fetch(`http://${host}:${target.port}${path}`, { signal: AbortSignal.timeout(2_000) })
    return { status: res.status, body: await res.text() }
  } catch {
    return undefined
  }
}

/** Removes what a scenario of `scope` left: moor's objects and the scenario's own containers. */
export const cleanupScenario = async (scope: string, engine: TestEngine): Promise<void> => {
  const raw = engine.raw
  const owned = await raw.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${scope}`] } })
  await Promise.all(
    owned.map((c) =>
      raw
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined)
    )
  )
  await cleanupScope(scope, engine)
}

/** Scenario scopes older than `maxAgeMs`: what a crashed run left (their host ports would be taken). */
export const cleanupStale = async (engine: TestEngine, nowMs: number, maxAgeMs = 30 * 60_000): Promise<void> => {
  const raw = engine.raw
  const scopes = new Set<string>()
  const old = (createdSeconds: number) => nowMs - createdSeconds * 1000 > maxAgeMs
  for (const c of await raw.listContainers({ all: true, filters: { label: ["moor.scope"] } })) {
    const scope = c.Labels["moor.scope"]
    if (scope?.startsWith(SCOPE_PREFIX) === true && old(c.Created)) scopes.add(scope)
  }
  for (const c of await raw.listContainers({ all: true, filters: { label: [OWNER_LABEL] } })) {
    const scope = c.Labels[OWNER_LABEL]
    if (scope?.startsWith(SCOPE_PREFIX) === true && old(c.Created)) scopes.add(scope)
  }
  for (const scope of scopes) await cleanupScenario(scope, engine)
}

export const makeLiveEngine = (scope: string, engine: TestEngine): Effect.Effect<ScenarioEngine> =>
  Effect.gen(function* () {
    let reachable = true
    const raw = engine.raw
    const layerFor = (endpoint: string) => DockerLive.layer([{ name: HOST, endpoint }]).pipe(Layer.orDie)
    const good = layerFor(engine.endpoint)
    const bad = layerFor(UNREACHABLE_ENDPOINT)
    const client = yield* DockerLive.make([{ name: HOST, endpoint: engine.endpoint }]).pipe(Effect.orDie)
    const container = (name: string) => raw.getContainer(name)
    return {
      kind: "live",
      docker: () => (reachable ? good : bad),
      snapshot: (of, foreign) =>
        Effect.promise(async () => {
          const listed = await raw.listContainers({ all: true, filters: { label: [`moor.scope=${of}`] } })
          const refs = [...listed.map((c) => c.Id), ...foreign]
          const views = await Promise.all(refs.map((ref) => view(raw, ref)))
          const seen = new Set<string>()
          return views.filter((v): v is ContainerView => {
            if (v === undefined || seen.has(v.id)) return false
            seen.add(v.id)
            return true
          })
        }),
      volumes: (of) =>
        Effect.promise(async () => {
          const list = await raw.listVolumes({ filters: { label: [`moor.scope=${of}`] } })
          return (list.Volumes ?? []).map((v) => v.Name)
        }),
      kill: (name) => Effect.promise(() => container(name).kill()),
      pause: (name) => Effect.promise(() => container(name).pause()),
      stop: (name) => Effect.promise(() => container(name).stop({ t: 10 })),
      remove: (name) => Effect.promise(() => container(name).remove({ force: true })),
      unhealthy: (name) =>
        client
          .exec(HOST, name, { cmd: ["touch", "/tmp/unhealthy"], env: {}, timeoutMs: 10_000 })
          .pipe(Effect.asVoid, Effect.orDie),
      foreign: (c) => Effect.promise(() => startForeign(raw, scope, c)),
      writeFile: (volume, path, content) =>
        Effect.promise(async () => {
          const file = `/v/${path}`
          const r = await inVolume(
            raw,
            scope,
            volume,
            `mkdir -p "$(dirname ${quote(file)})" && printf '%s' ${quote(content)} > ${quote(file)}`
          )
          if (r.exitCode !== 0) throw new Error(`writing ${path} into volume ${volume} failed: ${r.output}`)
        }),
      readFile: (volume, path) =>
        Effect.promise(async () => {
          const r = await inVolume(raw, scope, volume, `cat ${quote(`/v/${path}`)}`)
          return r.exitCode === 0 ? r.output : undefined
        }),
      http: (target, path) => Effect.promise(() => fetchText(engine, target, path)),
      setReachable: (value) =>
        Effect.sync(() => {
          reachable = value
        }),
      playHooks: () => Effect.void,
      sleep: (ms) => Effect.sleep(ms),
      timed: (effect) => effect
    } satisfies ScenarioEngine
  })
