/**
 * The `Docker` service: every engine moor talks to, addressed by host name. Each method is one
 * engine operation (one API call, except `observe` and `exec`). Foreign errors (dockerode, sockets,
 * HTTP statuses) are translated here, once, into `DockerError`.
 */
import { Context, Schema, type Effect, type Stream } from "effect"
import type { Ipam } from "../../core/model/desired.ts"
import type { ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"

export const DockerErrorKind = Schema.Literals([
  /** The engine did not answer (socket missing, connection refused, TLS failure, timeout on connect). */
  "unreachable",
  "not-found",
  /** 409: a name in use, a container being removed, a network with endpoints... */
  "conflict",
  /** Worth retrying: connection reset, 5xx. */
  "transient",
  "timeout",
  /** Anything else the engine refused (400, bad config): retrying will not help. */
  "rejected"
])
export type DockerErrorKind = typeof DockerErrorKind.Type

export class DockerError extends Schema.TaggedError<DockerError>()("DockerError", {
  host: Schema.String,
  op: Schema.String,
  kind: DockerErrorKind,
  message: Schema.String,
  status: Schema.optionalKey(Schema.Number)
}) {}

/** The same error told in other words (and, when given, as another kind: the kind decides retries). */
export const retold = (e: DockerError, message: string, kind: DockerErrorKind = e.kind): DockerError =>
  new DockerError({
    host: e.host,
    op: e.op,
    kind,
    message,
    ...(e.status === undefined ? {} : { status: e.status })
  })

export const isRetryable = (e: DockerError): boolean =>
  e.kind === "transient" || e.kind === "conflict" || e.kind === "timeout"

export interface NetworkSpec {
  readonly name: string
  readonly driver?: string | undefined
  readonly driverOpts?: Readonly<Record<string, string>> | undefined
  readonly ipam?: Ipam | undefined
  readonly internal?: boolean | undefined
  readonly attachable?: boolean | undefined
  readonly enableIpv6?: boolean | undefined
  readonly labels: Readonly<Record<string, string>>
}
export interface VolumeSpec {
  readonly name: string
  readonly driver?: string | undefined
  readonly driverOpts?: Readonly<Record<string, string>> | undefined
  readonly labels: Readonly<Record<string, string>>
}
export interface ExecOptions {
  readonly cmd: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly user?: string | undefined
  readonly privileged?: boolean | undefined
  readonly workingDir?: string | undefined
}
export interface ExecResult {
  readonly exitCode: number
  /** stdout and stderr interleaved, truncated to the last 64 KiB. */
  readonly output: string
}
export interface EngineEvent {
  /** die, oom, destroy, health_status, start, stop, kill, create... */
  readonly action: string
  readonly containerId: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  /** Epoch ms. */
  readonly at: number
}

/**
 * What `lock` found: the lock is this runner's now (until `expiresAt`), or another runner holds it
 * until `expiresAt`. A race on the lock (a runner creating or removing it at the same moment) always
 * ends in one of these, never in an error.
 */
export type EngineLock =
  | { readonly _tag: "Locked"; readonly id: string; readonly expiresAt: number }
  | { readonly _tag: "Held"; readonly holder: string; readonly expiresAt: number }

export interface LockRequest {
  readonly scope: string
  readonly holder: string
  /** Epoch ms: a lock that expired at or before `now` is taken over. */
  readonly now: number
  readonly expiresAt: number
  /** A holder known to be dead (a process gone on this machine): its lock is taken over at once. */
  readonly takeOverFrom?: string | undefined
}

/** Renewing the lock `id` that `lock` gave this holder, to `expiresAt`. */
export interface LockRenewal {
  readonly scope: string
  readonly holder: string
  readonly id: string
  readonly expiresAt: number
}

/** The lock is still this runner's, now until `expiresAt`; or it is not (taken over by `holder`, or gone). */
export type RenewedLock =
  | { readonly _tag: "Renewed"; readonly expiresAt: number }
  | { readonly _tag: "Lost"; readonly holder: string | undefined }

export interface DockerShape {
  /** The hosts this service can reach, in the order declared. */
  readonly hosts: ReadonlyArray<string>
  /**
   * One host, seen through a fixed number of list calls (containers with `moor.scope=<scope>`,
   * volumes, networks, images) plus one inspect per container that is not in a steady state.
   * Never fails: an engine that does not answer gives `Unreachable`.
   */
  readonly observe: (host: string, scope: string) => Effect.Effect<ObservedHost>
  readonly ping: (host: string) => Effect.Effect<void, DockerError>
  /** `platform` (`linux/arm64`): the variant to pull, as a service's `platform` asks. */
  readonly pull: (host: string, image: string, platform?: string) => Effect.Effect<void, DockerError>
  /**
   * A network of that name already there: `conflict`, also when another runner created it at the
   * same moment (on engines that then make two networks of one name, the duplicates are folded into
   * one: live-networks.ts). Either way one network of that name is left.
   */
  readonly createNetwork: (host: string, spec: NetworkSpec) => Effect.Effect<void, DockerError>
  /** Missing: `not-found`; still used by a running container: `conflict`. */
  readonly removeNetwork: (host: string, name: string) => Effect.Effect<void, DockerError>
  /** Like the engine, creating a volume that exists succeeds and leaves it (and its labels) as it is. */
  readonly createVolume: (host: string, spec: VolumeSpec) => Effect.Effect<void, DockerError>
  /** Missing: `not-found`; referenced by any container, even stopped: `conflict`. */
  readonly removeVolume: (host: string, name: string) => Effect.Effect<void, DockerError>
  /**
   * Creates and connects the container to all its networks; returns its id. A missing network is
   * only reported by `startContainer` (404, `not-found`), as the engine does; a name in use: `conflict`.
   */
  readonly createContainer: (host: string, config: ContainerConfig) => Effect.Effect<string, DockerError>
  /**
   * `ref` is a container id or name. Starting a running container succeeds. A host port already
   * published by another container fails like the engine ("port is already allocated", 500: `transient`).
   */
  readonly startContainer: (host: string, ref: string) => Effect.Effect<void, DockerError>
  /** Stopping a stopped container succeeds. */
  readonly stopContainer: (host: string, ref: string, timeoutMs?: number) => Effect.Effect<void, DockerError>
  /** Force-removes; never removes named volumes. A container already gone succeeds. */
  readonly removeContainer: (host: string, ref: string) => Effect.Effect<void, DockerError>
  readonly renameContainer: (host: string, ref: string, to: string) => Effect.Effect<void, DockerError>
  /** One container as observed now, or undefined when it does not exist. */
  readonly inspectContainer: (host: string, ref: string) => Effect.Effect<ObservedContainer | undefined, DockerError>
  /** Runs a command in a running container and waits for it, up to `timeoutMs`. */
  readonly exec: (host: string, ref: string, options: ExecOptions) => Effect.Effect<ExecResult, DockerError>
  readonly logs: (
    host: string,
    ref: string,
    options: { readonly follow: boolean; readonly tail?: number | undefined }
  ) => Stream.Stream<string, DockerError>
  /**
   * The engine's own lock for a scope, which every runner on this engine sees whatever repository
   * it records to: a container named `moor-lock-<scope>` that is created and never started (from
   * `moor-lock:1`, an empty image moor imports on first use). Container names are unique on an
   * engine, so of two runners creating it at once one gets a conflict and finds the other's lock.
   * Taking it again with the same holder succeeds. Not labelled with `moor.scope`: no pass sees it.
   */
  readonly lock: (host: string, request: LockRequest) => Effect.Effect<EngineLock, DockerError>
  /**
   * Extends the lock without a moment when it is free: labels cannot change, so each renewal is a
   * container of its own (created, never started, no name, labelled `moor.lock.of=<id>` with the new
   * expiry) made before the previous renewal is removed; the lock expires at the latest of its own
   * label and its renewals'. `Lost` when the lock under the name is no longer `id`.
   */
  readonly renewLock: (host: string, renewal: LockRenewal) => Effect.Effect<RenewedLock, DockerError>
  /** Removes the lock `id` that `lock` gave, and its renewals; one that is already gone succeeds. */
  readonly unlock: (host: string, id: string) => Effect.Effect<void, DockerError>
  /** The engine's container events for this scope's containers, from now on. */
  readonly events: (host: string, scope: string) => Stream.Stream<EngineEvent, DockerError>
}

export class Docker extends Context.Service<Docker, DockerShape>()("moor/Docker") {}
