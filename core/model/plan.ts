/**
 * The plan: actions, each with a stable id, a kind, where it acts, a reason for people, and the ids
 * of the actions it waits for. The executor makes no decisions: everything it needs is in the action.
 */
import { Schema } from "effect"
import { Ipam, Propagation } from "./desired.ts"
import { ContainerOptions } from "./options.ts"

const StringMap = Schema.Record(Schema.String, Schema.String)

const ExecHook = Schema.Struct({
  command: Schema.Array(Schema.String),
  user: Schema.optionalKey(Schema.String),
  privileged: Schema.optionalKey(Schema.Boolean),
  workingDir: Schema.optionalKey(Schema.String),
  /** Sorted by key. */
  env: Schema.optionalKey(Schema.Array(Schema.Tuple([Schema.String, Schema.String])))
})
export type ExecHookConfig = typeof ExecHook.Type

/** A container fully resolved for the engine: engine names of volumes and networks, moor's labels included. */
export const ContainerConfig = Schema.Struct({
  name: Schema.String,
  image: Schema.String,
  command: Schema.optionalKey(Schema.Array(Schema.String)),
  entrypoint: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Sorted by key. */
  env: Schema.Array(Schema.Tuple([Schema.String, Schema.String])),
  labels: StringMap,
  ports: Schema.Array(
    Schema.Struct({
      target: Schema.Int,
      published: Schema.optionalKey(Schema.Int),
      publishedEnd: Schema.optionalKey(Schema.Int),
      hostIp: Schema.optionalKey(Schema.String),
      protocol: Schema.Literals(["tcp", "udp"])
    })
  ),
  /** The options after `readOnly` are absent when they are the engine's default (see `Mount` in desired.ts). */
  mounts: Schema.Array(
    Schema.Struct({
      type: Schema.Literals(["volume", "bind", "tmpfs"]),
      source: Schema.optionalKey(Schema.String),
      target: Schema.String,
      readOnly: Schema.Boolean,
      /** Only ever `false` (the engine must not create a missing bind source); `noCopy` only ever `true`. */
      createHostPath: Schema.optionalKey(Schema.Boolean),
      propagation: Schema.optionalKey(Propagation),
      selinux: Schema.optionalKey(Schema.Literals(["z", "Z"])),
      noCopy: Schema.optionalKey(Schema.Boolean),
      subpath: Schema.optionalKey(Schema.String),
      sizeBytes: Schema.optionalKey(Schema.Number),
      mode: Schema.optionalKey(Schema.Number)
    })
  ),
  /** Engine network names, the first one is the primary. */
  networks: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      aliases: Schema.Array(Schema.String),
      ipv4Address: Schema.optionalKey(Schema.String),
      ipv6Address: Schema.optionalKey(Schema.String),
      linkLocalIps: Schema.optionalKey(Schema.Array(Schema.String)),
      macAddress: Schema.optionalKey(Schema.String),
      driverOpts: Schema.optionalKey(StringMap),
      gwPriority: Schema.optionalKey(Schema.Number),
      interfaceName: Schema.optionalKey(Schema.String)
    })
  ),
  healthcheck: Schema.optionalKey(
    Schema.Struct({
      test: Schema.Array(Schema.String),
      intervalMs: Schema.optionalKey(Schema.Number),
      timeoutMs: Schema.optionalKey(Schema.Number),
      startPeriodMs: Schema.optionalKey(Schema.Number),
      startIntervalMs: Schema.optionalKey(Schema.Number),
      retries: Schema.optionalKey(Schema.Number)
    })
  ),
  restart: Schema.optionalKey(Schema.Literals(["no", "always", "on-failure", "unless-stopped"])),
  user: Schema.optionalKey(Schema.String),
  workingDir: Schema.optionalKey(Schema.String),
  hostname: Schema.optionalKey(Schema.String),
  init: Schema.optionalKey(Schema.Boolean),
  stopSignal: Schema.optionalKey(Schema.String),
  stopGracePeriodMs: Schema.optionalKey(Schema.Number),
  extraHosts: Schema.optionalKey(Schema.Array(Schema.String)),
  capAdd: Schema.optionalKey(Schema.Array(Schema.String)),
  capDrop: Schema.optionalKey(Schema.Array(Schema.String)),
  readOnly: Schema.optionalKey(Schema.Boolean),
  tmpfs: Schema.optionalKey(Schema.Array(Schema.String)),
  resources: Schema.optionalKey(
    Schema.Struct({
      cpus: Schema.optionalKey(Schema.Number),
      memoryBytes: Schema.optionalKey(Schema.Number),
      memoryReservationBytes: Schema.optionalKey(Schema.Number),
      pids: Schema.optionalKey(Schema.Number)
    })
  ),
  restartRetries: Schema.optionalKey(Schema.Number),
  /** `host`, `none`, `bridge` or `container:NAME`; then `networks` is empty. */
  networkMode: Schema.optionalKey(Schema.String),
  /** Commands run inside the container after each start (`post_start`) and before each stop (`pre_stop`). */
  postStart: Schema.optionalKey(Schema.Array(ExecHook)),
  preStop: Schema.optionalKey(Schema.Array(ExecHook)),
  /** Resolved and canonical (../container-options.ts); always the last key. */
  options: Schema.optionalKey(ContainerOptions)
})
export type ContainerConfig = typeof ContainerConfig.Type

/** A reference to a container: its name, and its id when it exists already (observed). */
export const ContainerRef = Schema.Struct({
  name: Schema.String,
  id: Schema.optionalKey(Schema.String)
})
export type ContainerRef = typeof ContainerRef.Type

/** One engine call inside a replacement. */
/** `post_start` commands run after a start, `pre_stop` commands before a stop. */
const postStart = { postStart: Schema.optionalKey(Schema.Array(ExecHook)) }
const preStop = { preStop: Schema.optionalKey(Schema.Array(ExecHook)) }
/** A health wait may also require the container to stay running and healthy for a while (`monitor`). */
const monitor = { monitorMs: Schema.optionalKey(Schema.Number) }

export const Step = Schema.Union([
  Schema.TaggedStruct("create", { container: ContainerConfig }),
  Schema.TaggedStruct("start", { container: ContainerRef, ...postStart }),
  Schema.TaggedStruct("stop", { container: ContainerRef, timeoutMs: Schema.optionalKey(Schema.Number), ...preStop }),
  Schema.TaggedStruct("remove", { container: ContainerRef }),
  Schema.TaggedStruct("rename", { container: ContainerRef, to: Schema.String }),
  Schema.TaggedStruct("wait-healthy", { container: ContainerRef, timeoutMs: Schema.Number, ...monitor })
])
export type Step = typeof Step.Type

const base = {
  id: Schema.String,
  host: Schema.String,
  app: Schema.String,
  reason: Schema.String,
  waitsFor: Schema.Array(Schema.String),
  /** Set on restarts moor makes to heal a service (they count against its restart budget): the service's spec hash. */
  restartOf: Schema.optionalKey(Schema.String),
  /** Actions this one starts after, whatever their outcome (a rolling update that goes on after a failure). */
  after: Schema.optionalKey(Schema.Array(Schema.String))
}
const svc = { service: Schema.String }

export const EnsureNetwork = Schema.TaggedStruct("ensure-network", {
  ...base,
  network: Schema.Struct({
    name: Schema.String,
    driver: Schema.optionalKey(Schema.String),
    driverOpts: Schema.optionalKey(StringMap),
    ipam: Schema.optionalKey(Ipam),
    internal: Schema.optionalKey(Schema.Boolean),
    attachable: Schema.optionalKey(Schema.Boolean),
    enableIpv6: Schema.optionalKey(Schema.Boolean),
    labels: StringMap
  })
})
export const EnsureVolume = Schema.TaggedStruct("ensure-volume", {
  ...base,
  volume: Schema.Struct({
    name: Schema.String,
    driver: Schema.optionalKey(Schema.String),
    driverOpts: Schema.optionalKey(StringMap),
    labels: StringMap
  })
})
export const PullImage = Schema.TaggedStruct("pull-image", {
  ...base,
  image: Schema.String,
  /** The variant a service's `platform` asks for. */
  platform: Schema.optionalKey(Schema.String)
})
export const Create = Schema.TaggedStruct("create", { ...base, ...svc, container: ContainerConfig })
export const Start = Schema.TaggedStruct("start", { ...base, ...svc, container: ContainerRef, ...postStart })
export const Stop = Schema.TaggedStruct("stop", {
  ...base,
  ...svc,
  container: ContainerRef,
  timeoutMs: Schema.optionalKey(Schema.Number),
  ...preStop
})
export const Remove = Schema.TaggedStruct("remove", { ...base, ...svc, container: ContainerRef })
export const RemoveNetwork = Schema.TaggedStruct("remove-network", { ...base, network: Schema.String })
export const RemoveVolume = Schema.TaggedStruct("remove-volume", { ...base, volume: Schema.String })
export const Recreate = Schema.TaggedStruct("recreate", {
  ...base,
  ...svc,
  /** The container being replaced. */
  current: ContainerRef,
  container: ContainerConfig,
  /** What changed, for people: `image moor-fixture/app:1 -> :2`, `env API_URL changed`, or why it is wedged. */
  changes: Schema.Array(Schema.String),
  /**
   * start-first: the new container runs beside the old until healthy; stop-first: fixed host ports or
   * writable mounts forbid that; remove-first: the old one is not serving (stopped, wedged, a one-shot job).
   */
  strategy: Schema.Literals(["start-first", "stop-first", "remove-first"]),
  steps: Schema.Array(Step),
  /** Run when a step fails, so that the old container serves again. */
  rollback: Schema.Array(Step),
  /** A pause before the first step: between one group of replicas and the next (`update_config.delay`). */
  delayMs: Schema.optionalKey(Schema.Number)
})
export const RunHook = Schema.TaggedStruct("run-hook", {
  ...base,
  /** The provider's service whose container runs the script. */
  service: Schema.String,
  container: ContainerRef,
  script: Schema.String,
  /** The script's text, run with `sh -c` inside the container. */
  content: Schema.optionalKey(Schema.String),
  consumer: Schema.Struct({ app: Schema.String, version: Schema.String }),
  env: StringMap,
  timeoutMs: Schema.Number
})
export const WaitHealthy = Schema.TaggedStruct("wait-healthy", {
  ...base,
  ...svc,
  container: ContainerRef,
  timeoutMs: Schema.Number
})
export const WaitCompleted = Schema.TaggedStruct("wait-completed", {
  ...base,
  ...svc,
  container: ContainerRef,
  timeoutMs: Schema.Number
})
export const Skip = Schema.TaggedStruct("skip", { ...base, service: Schema.optionalKey(Schema.String) })

export const Action = Schema.Union([
  EnsureNetwork,
  EnsureVolume,
  PullImage,
  Create,
  Start,
  Stop,
  Remove,
  RemoveNetwork,
  RemoveVolume,
  Recreate,
  RunHook,
  WaitHealthy,
  WaitCompleted,
  Skip
])
export type Action = typeof Action.Type
export type ActionKind = Action["_tag"]
export type ActionOf<K extends ActionKind> = Extract<Action, { readonly _tag: K }>

/** Kinds that change nothing on an engine. */
export const passiveKinds: ReadonlySet<ActionKind> = new Set(["wait-healthy", "wait-completed", "skip"])
/** Kinds that take away something that runs or holds data. */
export const destructiveKinds: ReadonlySet<ActionKind> = new Set([
  "stop",
  "remove",
  "recreate",
  "remove-network",
  "remove-volume"
])

export const AppState = Schema.Literals(["running", "degraded", "failed", "torn_down", "pending", "unknown"])
export type AppState = typeof AppState.Type

export const AppSummary = Schema.Struct({
  host: Schema.String,
  app: Schema.String,
  /** The state observed now. */
  state: AppState,
  /** Spec hash of the app (empty when the app is not desired). */
  specHash: Schema.String,
  /** Actions that change the engine for this app. */
  changes: Schema.Int,
  /** Why the app is left alone, when it is. */
  skipped: Schema.optionalKey(Schema.String),
  /** One line per service: `api running healthy`. */
  services: Schema.Array(
    Schema.Struct({ service: Schema.String, state: Schema.String, container: Schema.optionalKey(Schema.String) })
  )
})
export type AppSummary = typeof AppSummary.Type

export const HostSummary = Schema.Struct({
  host: Schema.String,
  status: Schema.Literals(["known", "unknown"]),
  reason: Schema.optionalKey(Schema.String)
})
export type HostSummary = typeof HostSummary.Type

export const Plan = Schema.Struct({
  scope: Schema.String,
  /** In execution order: every action comes after the actions it waits for; ties by id. */
  actions: Schema.Array(Action),
  apps: Schema.Array(AppSummary),
  hosts: Schema.Array(HostSummary),
  warnings: Schema.Array(Schema.String)
})
export type Plan = typeof Plan.Type
