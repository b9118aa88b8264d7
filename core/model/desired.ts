/**
 * The desired state: what the spec (Compose files + `x-moor`) says should run.
 * Plain data, decoded with Effect Schema. Absent optional keys mean "the default";
 * the canonical hash (../hash.ts) treats an absent key and its default the same.
 */
import { Schema } from "effect"
import { ContainerOptions } from "./options.ts"

const Name = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9_.-]*$/, {
    message: "a name must start with a lowercase letter or digit and hold only a-z, 0-9, '_', '.', '-'"
  })
)
const StringMap = Schema.Record(Schema.String, Schema.String)
const PortNumber = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Millis = NonNegativeInt

export const Port = Schema.Struct({
  target: PortNumber,
  published: Schema.optionalKey(PortNumber),
  /** With `published`: a range of host ports, the engine taking a free one (`8000-8005:80`). */
  publishedEnd: Schema.optionalKey(PortNumber),
  hostIp: Schema.optionalKey(Schema.String),
  protocol: Schema.optionalKey(Schema.Literals(["tcp", "udp"]))
})
export type Port = typeof Port.Type

export const Propagation = Schema.Literals(["rprivate", "private", "rshared", "shared", "rslave", "slave"])
export type Propagation = typeof Propagation.Type

export const Mount = Schema.Struct({
  type: Schema.Literals(["volume", "bind", "tmpfs"]),
  /** volume: the app-level volume key; bind: an absolute host path; tmpfs: absent */
  source: Schema.optionalKey(Schema.String),
  target: Schema.String.check(Schema.isPattern(/^\//, { message: "a mount target must be an absolute path" })),
  readOnly: Schema.optionalKey(Schema.Boolean),
  /** bind: the engine creates a missing host path as a directory unless this is false (Compose's default: true). */
  createHostPath: Schema.optionalKey(Schema.Boolean),
  /** bind: mount propagation (default rprivate). */
  propagation: Schema.optionalKey(Propagation),
  /** bind or named volume: SELinux relabelling, shared (z) or private (Z). */
  selinux: Schema.optionalKey(Schema.Literals(["z", "Z"])),
  /** volume: do not copy the image's files into an empty volume. */
  noCopy: Schema.optionalKey(Schema.Boolean),
  /** volume: a path inside the volume to mount instead of its root (engine API 1.45). */
  subpath: Schema.optionalKey(Schema.String),
  /** tmpfs: size limit in bytes (default: unlimited). */
  sizeBytes: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  /** tmpfs: file mode of its root (default 0o1777). */
  mode: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0o7777 })))
})
export type Mount = typeof Mount.Type

export const HealthCheck = Schema.Struct({
  /** Docker's form: ["CMD", ...args] | ["CMD-SHELL", "script"] | ["NONE"] */
  test: Schema.optionalKey(Schema.Array(Schema.String)),
  intervalMs: Schema.optionalKey(Millis),
  timeoutMs: Schema.optionalKey(Millis),
  startPeriodMs: Schema.optionalKey(Millis),
  startIntervalMs: Schema.optionalKey(Millis),
  retries: Schema.optionalKey(NonNegativeInt),
  disable: Schema.optionalKey(Schema.Boolean)
})
export type HealthCheck = typeof HealthCheck.Type

export const DependsOnCondition = Schema.Literals([
  "service_started",
  "service_healthy",
  "service_completed_successfully"
])
export type DependsOnCondition = typeof DependsOnCondition.Type

export const Dependency = Schema.Struct({
  condition: DependsOnCondition,
  required: Schema.optionalKey(Schema.Boolean)
})

export const RestartPolicy = Schema.Literals(["no", "always", "on-failure", "unless-stopped"])
export type RestartPolicy = typeof RestartPolicy.Type

export const Resources = Schema.Struct({
  cpus: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThan(0))),
  memoryBytes: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  memoryReservationBytes: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  pids: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0)))
})
export type Resources = typeof Resources.Type

/** How a service's containers are replaced (`deploy.update_config`) or put back (`deploy.rollback_config`). */
export const Rollout = Schema.Struct({
  /** start-first: the new container runs beside the old until healthy; stop-first: the old stops first. */
  order: Schema.optionalKey(Schema.Literals(["start-first", "stop-first"])),
  /** Replicas replaced at once (default 1; 0: all at once). */
  parallelism: Schema.optionalKey(NonNegativeInt),
  /** Wait between one group of replicas and the next. */
  delayMs: Schema.optionalKey(Millis),
  /** When a replica's replacement fails: put it back and stop (rollback, pause) or go on with the others. */
  failureAction: Schema.optionalKey(Schema.Literals(["rollback", "pause", "continue"])),
  /** How long a new container must stay running and healthy before its replacement counts as done. */
  monitorMs: Schema.optionalKey(Millis)
})
export type Rollout = typeof Rollout.Type

/** `deploy.restart_policy`: the engine's restart policy, and moor's restart budget for the service. */
export const RestartBudget = Schema.Struct({
  /** Restarts moor makes within `windowMs` before the app is reported failed. */
  maxAttempts: Schema.optionalKey(NonNegativeInt),
  windowMs: Schema.optionalKey(Millis),
  /** The first back-off between restarts (it doubles, as moor's default does). */
  delayMs: Schema.optionalKey(Millis)
})
export type RestartBudget = typeof RestartBudget.Type

/**
 * When moor pulls a service's image: `missing` (default: when the host does not have it), `always`
 * (every pass), `never`, `build`, or `refresh` (when moor's last pull on the host is older than `refreshMs`:
 * `daily`, `weekly`, `every_12h`).
 */
export const PullPolicy = Schema.Literals(["missing", "always", "never", "build", "refresh"])
export type PullPolicy = typeof PullPolicy.Type

/** A command run inside the service's container after it starts (`post_start`) or before it stops (`pre_stop`). */
export const ExecHook = Schema.Struct({
  command: Schema.Array(Schema.String),
  user: Schema.optionalKey(Schema.String),
  privileged: Schema.optionalKey(Schema.Boolean),
  workingDir: Schema.optionalKey(Schema.String),
  environment: Schema.optionalKey(StringMap)
})
export type ExecHook = typeof ExecHook.Type

export const ServiceNetwork = Schema.Struct({
  aliases: Schema.optionalKey(Schema.Array(Schema.String)),
  ipv4Address: Schema.optionalKey(Schema.String),
  ipv6Address: Schema.optionalKey(Schema.String),
  linkLocalIps: Schema.optionalKey(Schema.Array(Schema.String)),
  macAddress: Schema.optionalKey(Schema.String),
  driverOpts: Schema.optionalKey(StringMap),
  /** The container joins networks by priority, highest first (the first is its primary); equal ones by name. */
  priority: Schema.optionalKey(Schema.Int),
  /** Which network gives the default gateway, highest first (engine API 1.48). */
  gwPriority: Schema.optionalKey(Schema.Int),
  /** The interface's name in the container (engine API 1.49). */
  interfaceName: Schema.optionalKey(Schema.String)
})

export const Service = Schema.Struct({
  image: Schema.NonEmptyString,
  /** The engine name of the service's (only) container, when the spec fixes it (`container_name`). */
  containerName: Schema.optionalKey(Schema.String),
  command: Schema.optionalKey(Schema.Array(Schema.String)),
  entrypoint: Schema.optionalKey(Schema.Array(Schema.String)),
  environment: Schema.optionalKey(StringMap),
  ports: Schema.optionalKey(Schema.Array(Port)),
  mounts: Schema.optionalKey(Schema.Array(Mount)),
  /** network key (app-level) -> attachment options. Absent: the app's `default` network. */
  networks: Schema.optionalKey(Schema.Record(Schema.String, ServiceNetwork)),
  labels: Schema.optionalKey(StringMap),
  healthcheck: Schema.optionalKey(HealthCheck),
  restart: Schema.optionalKey(RestartPolicy),
  /** With `on-failure`: how many times the engine restarts the container (`on-failure:N`). */
  restartRetries: Schema.optionalKey(NonNegativeInt),
  /** The hosts it runs on, when not every host of its app (a profile enabled on some hosts only). */
  hosts: Schema.optionalKey(Schema.Array(Schema.String)),
  /** How many containers run the service (`scale`, `deploy.replicas`; default 1). */
  replicas: Schema.optionalKey(NonNegativeInt),
  update: Schema.optionalKey(Rollout),
  rollback: Schema.optionalKey(Rollout),
  restartBudget: Schema.optionalKey(RestartBudget),
  pullPolicy: Schema.optionalKey(PullPolicy),
  /** With pull policy `refresh`: the longest a pulled image is used before it is pulled again. */
  pullRefreshMs: Schema.optionalKey(Millis),
  /**
   * `host`, `none`, `bridge`, `container:NAME` or `service:NAME` (another service of the app): the
   * container joins no network of the app.
   */
  networkMode: Schema.optionalKey(Schema.String),
  postStart: Schema.optionalKey(Schema.Array(ExecHook)),
  preStop: Schema.optionalKey(Schema.Array(ExecHook)),
  dependsOn: Schema.optionalKey(Schema.Record(Schema.String, Dependency)),
  user: Schema.optionalKey(Schema.String),
  workingDir: Schema.optionalKey(Schema.String),
  hostname: Schema.optionalKey(Schema.String),
  init: Schema.optionalKey(Schema.Boolean),
  stopSignal: Schema.optionalKey(Schema.String),
  stopGracePeriodMs: Schema.optionalKey(Millis),
  extraHosts: Schema.optionalKey(Schema.Array(Schema.String)),
  capAdd: Schema.optionalKey(Schema.Array(Schema.String)),
  capDrop: Schema.optionalKey(Schema.Array(Schema.String)),
  readOnly: Schema.optionalKey(Schema.Boolean),
  tmpfs: Schema.optionalKey(Schema.Array(Schema.String)),
  resources: Schema.optionalKey(Resources),
  /**
   * Digests of the files this service's configuration comes from (env files, config files),
   * keyed by the path as written in the spec. The spec loader reads the files; the core only hashes the digests.
   */
  configDigests: Schema.optionalKey(StringMap),
  /** How long a replacement or a dependency waits for this service to become healthy (default: policy). */
  healthTimeoutMs: Schema.optionalKey(Millis),
  /**
   * Why moor cannot apply this service yet (it uses a Compose feature moor reads but does not apply,
   * such as secrets or build): the service is left as it is, and its dependents wait, with this reason.
   */
  notApplied: Schema.optionalKey(Schema.String),
  /** Engine settings moor passes through (dns, sysctls, ulimits, logging...): ./options.ts. */
  options: Schema.optionalKey(ContainerOptions)
})
export type Service = typeof Service.Type

export const Volume = Schema.Struct({
  /** The engine's name; default `<app>_<key>`. */
  name: Schema.optionalKey(Schema.String),
  driver: Schema.optionalKey(Schema.String),
  driverOpts: Schema.optionalKey(StringMap),
  labels: Schema.optionalKey(StringMap),
  /** Created outside moor: used, never created or removed. */
  external: Schema.optionalKey(Schema.Boolean)
})
export type Volume = typeof Volume.Type

export const IpamPool = Schema.Struct({
  subnet: Schema.optionalKey(Schema.String),
  ipRange: Schema.optionalKey(Schema.String),
  gateway: Schema.optionalKey(Schema.String),
  auxAddresses: Schema.optionalKey(StringMap)
})
export type IpamPool = typeof IpamPool.Type

export const Ipam = Schema.Struct({
  driver: Schema.optionalKey(Schema.String),
  config: Schema.optionalKey(Schema.Array(IpamPool)),
  options: Schema.optionalKey(StringMap)
})
export type Ipam = typeof Ipam.Type

export const Network = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  driver: Schema.optionalKey(Schema.String),
  driverOpts: Schema.optionalKey(StringMap),
  ipam: Schema.optionalKey(Ipam),
  internal: Schema.optionalKey(Schema.Boolean),
  attachable: Schema.optionalKey(Schema.Boolean),
  enableIpv6: Schema.optionalKey(Schema.Boolean),
  labels: Schema.optionalKey(StringMap),
  external: Schema.optionalKey(Schema.Boolean)
})
export type Network = typeof Network.Type

export const Hook = Schema.Struct({
  /** Path of the script inside the provider app's directory (relative, never leaving it). */
  script: Schema.NonEmptyString,
  /** The script's text, read by the spec loader (the core reads no files). Run with `sh -c`. */
  content: Schema.optionalKey(Schema.String),
  /** The provider service whose container runs the script (default: the provider's first service by name). */
  service: Schema.optionalKey(Schema.String),
  timeoutMs: Schema.optionalKey(Millis)
})
export type Hook = typeof Hook.Type

export const Requirement = Schema.Struct({
  app: Schema.String,
  onStart: Schema.optionalKey(Hook)
})
export type Requirement = typeof Requirement.Type

/** Where a value came from, for error messages: the file, and the line of the app's key when known. */
export const Source = Schema.Struct({
  file: Schema.String,
  line: Schema.optionalKey(Schema.Int)
})
export type Source = typeof Source.Type

export const App = Schema.Struct({
  name: Name,
  version: Schema.optionalKey(Schema.String),
  /** Hosts this app is placed on (default: the desired state's default host). */
  hosts: Schema.optionalKey(Schema.Array(Schema.String)),
  services: Schema.Record(Schema.String, Service),
  volumes: Schema.optionalKey(Schema.Record(Schema.String, Volume)),
  networks: Schema.optionalKey(Schema.Record(Schema.String, Network)),
  requires: Schema.optionalKey(Schema.Array(Requirement)),
  source: Schema.optionalKey(Source)
})
export type App = typeof App.Type

export const Host = Schema.Struct({
  name: Name,
  labels: Schema.optionalKey(StringMap)
})
export type Host = typeof Host.Type

export const Desired = Schema.Struct({
  /** The owner id: every container moor creates carries it as a label; nothing without it is touched. */
  scope: Name,
  hosts: Schema.optionalKey(Schema.Array(Host)),
  apps: Schema.Array(Schema.Unknown)
})
/**
 * The decoded desired state. Apps are decoded one by one (see ../decode.ts) so that one bad app
 * becomes a skip with its message while the rest is planned; `invalid` holds those.
 */
export interface DesiredState {
  readonly scope: string
  readonly hosts: ReadonlyArray<Host>
  readonly apps: ReadonlyArray<App>
  readonly invalid: ReadonlyArray<InvalidApp>
  /**
   * Parts of the spec that could not be read, each `file: why`. Any app may be declared there, so
   * while there are any no app is taken for gone: containers of apps not in the spec are kept.
   */
  readonly unreadable: ReadonlyArray<string>
  /** Where the spec comes from, when it comes from files (see `SpecOrigin`). */
  readonly origin?: SpecOrigin
}

/**
 * The spec's identity on the engines. Everything moor creates records the spec's path (label
 * `moor.spec`); when the scope was not set but taken from the folder's name, a host holding that
 * scope's containers from a spec at another path is another spec's, and left alone.
 */
export interface SpecOrigin {
  /** The spec's path, absolute, symlinks resolved. */
  readonly path: string
  /** No scope was set: it is the spec folder's name, which another spec's folder may share. */
  readonly scopeFromFolder: boolean
}
export interface InvalidApp {
  readonly name: string
  readonly message: string
  readonly hosts?: ReadonlyArray<string>
}

export const DEFAULT_HOST = "local"
