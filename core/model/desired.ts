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
  hostIp: Schema.optionalKey(Schema.String),
  protocol: Schema.optionalKey(Schema.Literals(["tcp", "udp"]))
})
export type Port = typeof Port.Type

export const Mount = Schema.Struct({
  type: Schema.Literals(["volume", "bind", "tmpfs"]),
  /** volume: the app-level volume key; bind: an absolute host path; tmpfs: absent */
  source: Schema.optionalKey(Schema.String),
  target: Schema.String.check(Schema.isPattern(/^\//, { message: "a mount target must be an absolute path" })),
  readOnly: Schema.optionalKey(Schema.Boolean)
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

export const ServiceNetwork = Schema.Struct({
  aliases: Schema.optionalKey(Schema.Array(Schema.String)),
  ipv4Address: Schema.optionalKey(Schema.String)
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

export const Network = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  driver: Schema.optionalKey(Schema.String),
  internal: Schema.optionalKey(Schema.Boolean),
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
}
export interface InvalidApp {
  readonly name: string
  readonly message: string
  readonly hosts?: ReadonlyArray<string>
}

export const DEFAULT_HOST = "local"
