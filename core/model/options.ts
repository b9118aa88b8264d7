/**
 * Engine settings a service may carry that moor does not plan around (DNS, sysctls, ulimits, logging,
 * namespaces, devices, CPU and memory knobs...). One optional field per Compose key, named in camelCase.
 *
 * The same shape serves twice: on a desired `Service`, references name services (`links: ["db:database"]`,
 * `volumesFrom: ["db:ro"]`, `ipc: "service:db"`); on a `ContainerConfig` they are resolved to engine
 * container names and put in canonical form by ../container-options.ts.
 */
import { Schema } from "effect"

const StringMap = Schema.Record(Schema.String, Schema.String)
const Strings = Schema.Array(Schema.String)
const Int = Schema.Int

export const Ulimit = Schema.Struct({ soft: Int, hard: Int })
export type Ulimit = typeof Ulimit.Type

/** A device of the host in the container (`devices`): a path, or a CDI name (`vendor.com/class=name`). */
export const DeviceMapping = Schema.Struct({
  source: Schema.String,
  target: Schema.String,
  /** cgroup permissions, `rwm` by default. */
  permissions: Schema.String
})
export type DeviceMapping = typeof DeviceMapping.Type

/** A request for devices from a driver (`gpus`, `deploy.resources.reservations.devices`). */
export const DeviceRequest = Schema.Struct({
  driver: Schema.optionalKey(Schema.String),
  /** -1: all of them. */
  count: Schema.optionalKey(Int),
  deviceIds: Schema.optionalKey(Strings),
  capabilities: Schema.optionalKey(Strings),
  options: Schema.optionalKey(StringMap)
})
export type DeviceRequest = typeof DeviceRequest.Type

const BlkioRate = Schema.Struct({ path: Schema.String, rate: Int })
export const BlkioConfig = Schema.Struct({
  weight: Schema.optionalKey(Int),
  weightDevice: Schema.optionalKey(Schema.Array(Schema.Struct({ path: Schema.String, weight: Int }))),
  deviceReadBps: Schema.optionalKey(Schema.Array(BlkioRate)),
  deviceReadIops: Schema.optionalKey(Schema.Array(BlkioRate)),
  deviceWriteBps: Schema.optionalKey(Schema.Array(BlkioRate)),
  deviceWriteIops: Schema.optionalKey(Schema.Array(BlkioRate))
})
export type BlkioConfig = typeof BlkioConfig.Type

export const ContainerOptions = Schema.Struct({
  /** `PORT[-END]/PROTO`. */
  expose: Schema.optionalKey(Strings),
  /** `NAME:ALIAS`: a service of the app (desired), its container (resolved). */
  links: Schema.optionalKey(Strings),
  /** `CONTAINER[:ALIAS]`: containers outside the app. */
  externalLinks: Schema.optionalKey(Strings),
  /** In order: the resolver tries them in turn. */
  dns: Schema.optionalKey(Strings),
  dnsOpt: Schema.optionalKey(Strings),
  /** In order: the search order. */
  dnsSearch: Schema.optionalKey(Strings),
  sysctls: Schema.optionalKey(StringMap),
  ulimits: Schema.optionalKey(Schema.Record(Schema.String, Ulimit)),
  logging: Schema.optionalKey(
    Schema.Struct({ driver: Schema.optionalKey(Schema.String), options: Schema.optionalKey(StringMap) })
  ),
  securityOpt: Schema.optionalKey(Strings),
  privileged: Schema.optionalKey(Schema.Boolean),
  devices: Schema.optionalKey(Schema.Array(DeviceMapping)),
  deviceCgroupRules: Schema.optionalKey(Strings),
  groupAdd: Schema.optionalKey(Strings),
  /** `host`, `private`, `shareable`, `none`, `container:NAME`, or `service:NAME` (desired only). */
  ipc: Schema.optionalKey(Schema.String),
  /** `host`, `container:NAME`, or `service:NAME` (desired only). */
  pid: Schema.optionalKey(Schema.String),
  uts: Schema.optionalKey(Schema.String),
  usernsMode: Schema.optionalKey(Schema.String),
  cgroup: Schema.optionalKey(Schema.Literals(["host", "private"])),
  cgroupParent: Schema.optionalKey(Schema.String),
  /** Bytes. */
  shmSize: Schema.optionalKey(Int),
  tty: Schema.optionalKey(Schema.Boolean),
  stdinOpen: Schema.optionalKey(Schema.Boolean),
  macAddress: Schema.optionalKey(Schema.String),
  domainname: Schema.optionalKey(Schema.String),
  /** `os[/arch[/variant]]`: given to the engine when it creates the container and pulls its image. */
  platform: Schema.optionalKey(Schema.String),
  runtime: Schema.optionalKey(Schema.String),
  isolation: Schema.optionalKey(Schema.String),
  storageOpt: Schema.optionalKey(StringMap),
  oomKillDisable: Schema.optionalKey(Schema.Boolean),
  oomScoreAdj: Schema.optionalKey(Int),
  memSwappiness: Schema.optionalKey(Int),
  /** Bytes of memory plus swap; -1: unlimited swap. */
  memswapLimit: Schema.optionalKey(Int),
  cpuCount: Schema.optionalKey(Int),
  cpuPercent: Schema.optionalKey(Int),
  cpuShares: Schema.optionalKey(Int),
  /** Microseconds. */
  cpuQuota: Schema.optionalKey(Int),
  cpuPeriod: Schema.optionalKey(Int),
  cpuRtPeriod: Schema.optionalKey(Int),
  cpuRtRuntime: Schema.optionalKey(Int),
  cpuset: Schema.optionalKey(Schema.String),
  blkioConfig: Schema.optionalKey(BlkioConfig),
  gpus: Schema.optionalKey(Schema.Array(DeviceRequest)),
  /** `deploy.resources.reservations.devices`. */
  reservedDevices: Schema.optionalKey(Schema.Array(DeviceRequest)),
  annotations: Schema.optionalKey(StringMap),
  /** `NAME[:ro]`: a service of the app, or `container:NAME[:ro]` (desired); a container name (resolved). */
  volumesFrom: Schema.optionalKey(Strings),
  /** Exactly one of them (Windows engines). */
  credentialSpec: Schema.optionalKey(
    Schema.Struct({ file: Schema.optionalKey(Schema.String), registry: Schema.optionalKey(Schema.String) })
  ),
  /** The engine's socket at /var/run/docker.sock inside the container. */
  useApiSocket: Schema.optionalKey(Schema.Boolean)
})
export type ContainerOptions = typeof ContainerOptions.Type
