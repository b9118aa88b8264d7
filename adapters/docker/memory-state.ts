/**
 * The in-memory engine's state per host, and how it is shown: the same JSON the real engine sends
 * for `GET /containers/json` and `GET /containers/{id}/json`, so that the live adapter's parsers
 * (parse-engine.ts) read the fake exactly as they read the real engine.
 */
import { DateTime } from "effect"
import { hash128 } from "../../core/hash.ts"
import type { ContainerState, Health } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { normalizeImage } from "../../core/names.ts"
import { networkBody } from "./create-body.ts"
import type { EngineEvent, NetworkSpec } from "./Docker.ts"
import {
  CURRENT_ENGINE,
  type EngineSnapshot,
  type EngineVersion,
  type MemoryImage,
  type ResolvedHealthcheck,
  resolveHealthcheck
} from "./memory-model.ts"

export interface PortBinding {
  readonly hostIp: string
  readonly hostPort: number
  readonly target: number
  readonly protocol: "tcp" | "udp"
}

export interface ProbeRecord {
  readonly start: number
  readonly end: number
  readonly exitCode: number
}

export interface LogFollower {
  readonly line: (line: string) => void
  readonly end: () => void
}

export interface Container {
  readonly id: string
  name: string
  readonly config: ContainerConfig
  readonly image: MemoryImage
  readonly imageId: string
  readonly labels: Readonly<Record<string, string>>
  readonly env: Readonly<Record<string, string>>
  readonly createdAt: number
  readonly healthcheck: ResolvedHealthcheck | undefined
  readonly networks: ReadonlyArray<{ readonly name: string; readonly aliases: ReadonlyArray<string> }>
  state: ContainerState
  exitCode: number
  error: string
  startedAt: number | undefined
  finishedAt: number | undefined
  restartCount: number
  health: Health
  failingStreak: number
  healthLog: Array<ProbeRecord>
  /** The probe fails whatever the image does (an exec touched the unhealthy file, or a test said so). */
  probeFails: boolean
  /** Stopped by a user (stop, kill): the restart policy does not bring it back. */
  manuallyStopped: boolean
  /** Bumped by every start and stop: timers of an older run see it and do nothing. */
  generation: number
  backoffMs: number
  /** When the process exits by itself, in this run (epoch ms), and with which code. */
  exitAt: number | undefined
  pendingExitCode: number
  ports: Array<PortBinding>
  readonly logs: Array<string>
  readonly followers: Set<LogFollower>
}

/** A container as the engine has it right after `create`: never started, no health, no logs. */
export const newContainer = (fields: {
  readonly id: string
  readonly config: ContainerConfig
  readonly image: MemoryImage & { readonly id: string }
  readonly labels: Readonly<Record<string, string>>
  readonly env: Readonly<Record<string, string>>
  readonly networks: Container["networks"]
  readonly createdAt: number
}): Container => ({
  ...fields,
  name: fields.config.name,
  imageId: fields.image.id,
  healthcheck: resolveHealthcheck(fields.image, fields.config),
  state: "created",
  exitCode: 0,
  error: "",
  startedAt: undefined,
  finishedAt: undefined,
  restartCount: 0,
  health: "none",
  failingStreak: 0,
  healthLog: [],
  probeFails: false,
  manuallyStopped: false,
  generation: 0,
  backoffMs: 100,
  exitAt: undefined,
  pendingExitCode: 0,
  ports: [],
  logs: [],
  followers: new Set()
})

export interface Volume {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly files: Map<string, string>
}

export interface Network {
  readonly name: string
  readonly id: string
  readonly labels: Readonly<Record<string, string>>
  readonly predefined: boolean
  /** What it was created with (absent for the predefined ones). */
  readonly spec?: NetworkSpec
}

/** A network as `GET /networks` lists it: the engine's defaults, then what it was created with. */
export const networkJson = (n: Network): Record<string, unknown> => ({
  Driver: n.name === "host" || n.name === "none" ? n.name : "bridge",
  Internal: false,
  Attachable: false,
  EnableIPv6: false,
  Options: {},
  IPAM: { Driver: "default", Config: [] },
  ...(n.spec === undefined ? {} : networkBody(n.spec)),
  Name: n.name,
  Id: n.id,
  Labels: n.labels
})

export interface HostState {
  readonly name: string
  reachable: boolean
  /** What the engine reports of itself; undefined: it does not say. */
  engine: EngineVersion | undefined
  readonly images: Map<string, MemoryImage & { readonly id: string }>
  readonly containers: Map<string, Container>
  readonly volumes: Map<string, Volume>
  readonly networks: Map<string, Network>
  /** Engine locks (`DockerShape.lock`) by scope, with the expiry of their latest renewal. */
  readonly locks: Map<
    string,
    { readonly id: string; readonly labels: Readonly<Record<string, string>>; renewedUntil?: number }
  >
  readonly events: Array<EngineEvent>
  readonly listeners: Set<(e: EngineEvent) => void>
  /** Closed when the host goes away: streams following it end with an error. */
  readonly breakers: Set<() => void>
  counter: number
}

export const hexId = (seed: string): string => `${hash128(seed)}${hash128(`${seed}#`)}`
export const imageIdOf = (image: MemoryImage): string => image.id ?? `sha256:${hexId(normalizeImage(image.ref))}`

export const newHost = (
  name: string,
  images: ReadonlyArray<MemoryImage>,
  engine: EngineVersion | undefined = CURRENT_ENGINE
): HostState => {
  const host: HostState = {
    name,
    reachable: true,
    engine,
    images: new Map(),
    containers: new Map(),
    volumes: new Map(),
    networks: new Map(),
    locks: new Map(),
    events: [],
    listeners: new Set(),
    breakers: new Set(),
    counter: 0
  }
  for (const image of images) host.images.set(normalizeImage(image.ref), { ...image, id: imageIdOf(image) })
  for (const n of ["bridge", "host", "none"])
    host.networks.set(n, { name: n, id: hexId(`${name}/network/${n}`), labels: {}, predefined: true })
  return host
}

/** A container by id, unique id prefix, or name (with or without the leading "/"). */
export const findContainer = (host: HostState, ref: string): Container | undefined => {
  const byId = host.containers.get(ref)
  if (byId !== undefined) return byId
  const name = ref.startsWith("/") ? ref.slice(1) : ref
  for (const c of host.containers.values()) if (c.name === name) return c
  if (ref.length === 0) return undefined
  const prefixed = [...host.containers.values()].filter((c) => c.id.startsWith(ref))
  return prefixed.length === 1 ? prefixed[0] : undefined
}

export const isLive = (c: Container): boolean => c.state === "running" || c.state === "paused"

const iso = (ms: number | undefined): string =>
  ms === undefined ? "0001-01-01T00:00:00Z" : DateTime.formatIso(DateTime.makeUnsafe(ms))

const duration = (ms: number): string => {
  const s = Math.floor(ms / 1000)
  if (s < 1) return "Less than a second"
  if (s < 60) return `${s} second${s === 1 ? "" : "s"}`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} minute${m === 1 ? "" : "s"}`
  const h = Math.floor(m / 60)
  return `${h} hour${h === 1 ? "" : "s"}`
}

const healthSuffix: Record<Health, string> = {
  none: "",
  starting: " (health: starting)",
  healthy: " (healthy)",
  unhealthy: " (unhealthy)"
}

/** The list's Status text, as the engine writes it. */
export const statusText = (c: Container, now: number): string => {
  switch (c.state) {
    case "created":
      return "Created"
    case "running":
      return `Up ${duration(now - (c.startedAt ?? now))}${healthSuffix[c.health]}`
    case "paused":
      return `Up ${duration(now - (c.startedAt ?? now))} (Paused)`
    case "restarting":
      return `Restarting (${c.exitCode}) ${duration(now - (c.finishedAt ?? now))} ago`
    case "exited":
      return `Exited (${c.exitCode}) ${duration(now - (c.finishedAt ?? now))} ago`
    case "dead":
      return "Dead"
    case "removing":
      return "Removal In Progress"
  }
}

/** The image name the list shows: the reference, or the image id when the tag moved on. */
const listImage = (host: HostState, c: Container): string => {
  const tagged = host.images.get(normalizeImage(c.config.image))
  return tagged !== undefined && tagged.present !== false && tagged.id === c.imageId ? c.config.image : c.imageId
}

/** One entry of `GET /containers/json`. */
export const listJson = (host: HostState, c: Container, now: number): unknown => ({
  Id: c.id,
  Names: [`/${c.name}`],
  Image: listImage(host, c),
  ImageID: c.imageId,
  Created: Math.floor(c.createdAt / 1000),
  Labels: c.labels,
  State: c.state,
  Status: statusText(c, now),
  Ports:
    c.state === "running" || c.state === "paused"
      ? c.ports.map((p) => ({
          IP: p.hostIp === "" ? "0.0.0.0" : p.hostIp,
          PrivatePort: p.target,
          PublicPort: p.hostPort,
          Type: p.protocol
        }))
      : []
})

/** `GET /containers/{id}/json`, the parts moor reads. */
export const inspectJson = (c: Container): unknown => {
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }>> = {}
  if (isLive(c))
    for (const p of c.ports) {
      const key = `${p.target}/${p.protocol}`
      ports[key] = [
        ...(ports[key] ?? []),
        { HostIp: p.hostIp === "" ? "0.0.0.0" : p.hostIp, HostPort: String(p.hostPort) }
      ]
    }
  const hc = c.healthcheck
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: iso(c.createdAt),
    Image: c.imageId,
    RestartCount: c.restartCount,
    Config: {
      Image: c.config.image,
      Labels: c.labels,
      ...(hc === undefined ? {} : { Healthcheck: { Test: hc.test, Retries: hc.retries } })
    },
    State: {
      Status: c.state,
      Running: c.state === "running" || c.state === "paused",
      Paused: c.state === "paused",
      Restarting: c.state === "restarting",
      ExitCode: c.exitCode,
      Error: c.error,
      StartedAt: iso(c.startedAt),
      FinishedAt: iso(c.finishedAt),
      ...(hc === undefined
        ? {}
        : {
            Health: {
              Status: c.health === "none" ? "starting" : c.health,
              FailingStreak: c.failingStreak,
              Log: c.healthLog.map((p) => ({ Start: iso(p.start), End: iso(p.end), ExitCode: p.exitCode, Output: "" }))
            }
          })
    },
    NetworkSettings: { Ports: ports }
  }
}

export const snapshotOf = (host: HostState): EngineSnapshot => ({
  host: host.name,
  reachable: host.reachable,
  containers: [...host.containers.values()].map((c) => ({
    id: c.id,
    name: c.name,
    image: c.config.image,
    labels: c.labels,
    state: c.state,
    health: isLive(c) ? c.health : "none",
    exitCode: c.exitCode,
    restartCount: c.restartCount,
    networks: c.networks,
    publishedPorts: isLive(c) ? [...new Set(c.ports.map((p) => p.hostPort))].sort((a, b) => a - b) : [],
    config: c.config
  })),
  volumes: [...host.volumes.values()].map((v) => ({
    name: v.name,
    labels: v.labels,
    files: Object.fromEntries(v.files)
  })),
  networks: [...host.networks.values()].map((n) => ({ name: n.name, id: n.id, labels: n.labels })),
  images: [...host.images.values()]
    .filter((i) => i.present !== false)
    .map((i) => ({ ref: normalizeImage(i.ref), id: i.id }))
})
