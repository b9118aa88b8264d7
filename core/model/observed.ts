/**
 * The observed state: what the engines report, per host, at one instant (`now`, epoch ms),
 * plus the restart history the repository remembers. An engine that did not answer is
 * `Unreachable`, never an empty host.
 */
import { Schema } from "effect"

export const ContainerState = Schema.Literals([
  "created",
  "running",
  "paused",
  "restarting",
  "exited",
  "dead",
  "removing"
])
export type ContainerState = typeof ContainerState.Type

export const Health = Schema.Literals(["none", "starting", "healthy", "unhealthy"])
export type Health = typeof Health.Type

export const ObservedContainer = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  labels: Schema.Record(Schema.String, Schema.String),
  state: ContainerState,
  health: Health,
  exitCode: Schema.optionalKey(Schema.Int),
  /** The image reference the container was created from, as the engine reports it. */
  image: Schema.String,
  imageId: Schema.String,
  /** Epoch ms. */
  createdAt: Schema.optionalKey(Schema.Number),
  startedAt: Schema.optionalKey(Schema.Number),
  finishedAt: Schema.optionalKey(Schema.Number),
  /** Epoch ms since when the container has been unhealthy, when known. */
  unhealthySince: Schema.optionalKey(Schema.Number),
  /** The engine's own restart count (restart policy), when known. */
  restartCount: Schema.optionalKey(Schema.Int),
  /** Host ports the container publishes. */
  publishedPorts: Schema.optionalKey(Schema.Array(Schema.Int))
})
export type ObservedContainer = typeof ObservedContainer.Type

export const ObservedVolume = Schema.Struct({
  name: Schema.String,
  labels: Schema.Record(Schema.String, Schema.String)
})
export type ObservedVolume = typeof ObservedVolume.Type

export const ObservedNetwork = Schema.Struct({
  name: Schema.String,
  id: Schema.String,
  labels: Schema.Record(Schema.String, Schema.String),
  /** The settings the engine reports, when it does (compared with the declared ones, never acted on). */
  driver: Schema.optionalKey(Schema.String),
  internal: Schema.optionalKey(Schema.Boolean),
  attachable: Schema.optionalKey(Schema.Boolean),
  enableIpv6: Schema.optionalKey(Schema.Boolean),
  options: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  ipam: Schema.optionalKey(
    Schema.Struct({
      driver: Schema.optionalKey(Schema.String),
      config: Schema.optionalKey(
        Schema.Array(
          Schema.Struct({
            subnet: Schema.optionalKey(Schema.String),
            ipRange: Schema.optionalKey(Schema.String),
            gateway: Schema.optionalKey(Schema.String)
          })
        )
      )
    })
  )
})
export type ObservedNetwork = typeof ObservedNetwork.Type

export const ObservedImage = Schema.Struct({
  id: Schema.String,
  tags: Schema.Array(Schema.String),
  /** `name@sha256:...`: how an image pulled by digest is known. */
  digests: Schema.optionalKey(Schema.Array(Schema.String))
})
export type ObservedImage = typeof ObservedImage.Type

export const KnownHost = Schema.TaggedStruct("Known", {
  host: Schema.String,
  /** The engine's release as it reports it (`20.10.24+dfsg1`, `26.1.5`), when known. */
  engineVersion: Schema.optionalKey(Schema.String),
  /** The newest Engine API version the engine speaks (`1.41`, `1.45`), when known: what it can express. */
  apiVersion: Schema.optionalKey(Schema.String),
  containers: Schema.Array(ObservedContainer),
  /** Names held by the host's other containers (not this scope's): moor never takes or touches them. */
  otherNames: Schema.optionalKey(Schema.Array(Schema.String)),
  volumes: Schema.Array(ObservedVolume),
  networks: Schema.Array(ObservedNetwork),
  images: Schema.Array(ObservedImage)
})
export type KnownHost = typeof KnownHost.Type

export const UnreachableHost = Schema.TaggedStruct("Unreachable", {
  host: Schema.String,
  reason: Schema.String
})
export type UnreachableHost = typeof UnreachableHost.Type

export const ObservedHost = Schema.Union([KnownHost, UnreachableHost])
export type ObservedHost = typeof ObservedHost.Type

/** A restart (start or recreate) moor made to heal a service, as remembered by the repository. */
export const RestartRecord = Schema.Struct({
  host: Schema.String,
  app: Schema.String,
  service: Schema.String,
  /** Epoch ms. */
  at: Schema.Number,
  /** The spec hash the service had; only restarts under the current spec count against the budget. */
  specHash: Schema.String
})
export type RestartRecord = typeof RestartRecord.Type

/** A replacement that failed and was rolled back, as remembered by the repository. */
export const FailedRollout = Schema.Struct({
  host: Schema.String,
  app: Schema.String,
  service: Schema.String,
  /** The spec that could not be deployed. */
  specHash: Schema.String,
  /** Epoch ms. */
  at: Schema.Number,
  error: Schema.String
})
export type FailedRollout = typeof FailedRollout.Type

/** An image moor pulled on a host, as remembered by the repository (for `pull_policy: daily` and the like). */
export const PullRecord = Schema.Struct({
  host: Schema.String,
  image: Schema.String,
  /** Epoch ms. */
  at: Schema.Number
})
export type PullRecord = typeof PullRecord.Type

export const Observed = Schema.Struct({
  /** Epoch ms: the instant of the observation. The core reads no clock. */
  now: Schema.Number,
  /** Epoch ms: when the pass this observation belongs to started (a pull since then is this pass's). */
  passStartedAt: Schema.optionalKey(Schema.Number),
  pulls: Schema.optionalKey(Schema.Array(PullRecord)),
  hosts: Schema.Array(ObservedHost),
  restarts: Schema.optionalKey(Schema.Array(RestartRecord)),
  failedRollouts: Schema.optionalKey(Schema.Array(FailedRollout))
})
export type Observed = typeof Observed.Type
