/**
 * A container's engine settings (`ContainerOptions`, already canonical and resolved) to the fields of
 * `POST /containers/create` (API 1.41 names), as docker compose maps them (pkg/compose/create.go):
 * a few on the container config, most on the host config, links on every network endpoint, the
 * platform in the query.
 */
import type { ContainerOptions, DeviceRequest } from "../../core/model/options.ts"

type Strings = ReadonlyArray<string>
type Rate = { readonly Path: string; readonly Rate: number }

export interface OptionConfigFields {
  readonly Tty?: boolean
  readonly OpenStdin?: boolean
  readonly MacAddress?: string
  readonly Domainname?: string
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>
}

export interface EngineDeviceRequest {
  readonly Driver: string
  readonly Count: number
  readonly DeviceIDs: Strings
  readonly Capabilities: ReadonlyArray<Strings>
  readonly Options: Readonly<Record<string, string>>
}

export interface OptionHostFields {
  readonly Links?: Strings
  readonly Dns?: Strings
  readonly DnsOptions?: Strings
  readonly DnsSearch?: Strings
  readonly Sysctls?: Readonly<Record<string, string>>
  readonly Ulimits?: ReadonlyArray<{ readonly Name: string; readonly Soft: number; readonly Hard: number }>
  readonly LogConfig?: { readonly Type: string; readonly Config: Readonly<Record<string, string>> }
  readonly SecurityOpt?: Strings
  readonly Privileged?: boolean
  readonly Devices?: ReadonlyArray<{
    readonly PathOnHost: string
    readonly PathInContainer: string
    readonly CgroupPermissions: string
  }>
  readonly DeviceCgroupRules?: Strings
  readonly DeviceRequests?: ReadonlyArray<EngineDeviceRequest>
  readonly GroupAdd?: Strings
  readonly IpcMode?: string
  readonly PidMode?: string
  readonly UTSMode?: string
  readonly UsernsMode?: string
  readonly CgroupnsMode?: string
  readonly CgroupParent?: string
  readonly ShmSize?: number
  readonly Runtime?: string
  readonly Isolation?: string
  readonly StorageOpt?: Readonly<Record<string, string>>
  readonly OomKillDisable?: boolean
  readonly OomScoreAdj?: number
  readonly MemorySwappiness?: number
  readonly MemorySwap?: number
  readonly CpuCount?: number
  readonly CpuPercent?: number
  readonly CpuShares?: number
  readonly CpuQuota?: number
  readonly CpuPeriod?: number
  readonly CpuRealtimePeriod?: number
  readonly CpuRealtimeRuntime?: number
  readonly CpusetCpus?: string
  readonly BlkioWeight?: number
  readonly BlkioWeightDevice?: ReadonlyArray<{ readonly Path: string; readonly Weight: number }>
  readonly BlkioDeviceReadBps?: ReadonlyArray<Rate>
  readonly BlkioDeviceReadIOps?: ReadonlyArray<Rate>
  readonly BlkioDeviceWriteBps?: ReadonlyArray<Rate>
  readonly BlkioDeviceWriteIOps?: ReadonlyArray<Rate>
  readonly Annotations?: Readonly<Record<string, string>>
  readonly VolumesFrom?: Strings
  readonly Binds?: Strings
  readonly MaskedPaths?: Strings
  readonly ReadonlyPaths?: Strings
}

export interface OptionFields {
  readonly config: OptionConfigFields
  readonly hostConfig: OptionHostFields
  /** Set on every network endpoint of the container (the engine reads links there on user networks). */
  readonly endpoint: { readonly Links?: Strings }
  /** The query of the create call. */
  readonly query: { readonly platform?: string }
}

const UNCONFINED = "systempaths=unconfined"

/** `9000/tcp`, `9100-9102/udp` -> each port with its protocol. */
const exposed = (specs: Strings): Record<string, Record<string, never>> => {
  const out: Record<string, Record<string, never>> = {}
  for (const spec of specs) {
    const [ports = "", proto = "tcp"] = spec.split("/")
    const [first = "", last = first] = ports.split("-")
    for (let p = Number(first); p <= Number(last); p++) out[`${p}/${proto}`] = {}
  }
  return out
}

/** Compose's CDI form of `devices`: the same fully qualified name (`vendor.com/class=name`) on both sides. */
const isCdi = (d: { readonly source: string; readonly target: string }): boolean =>
  d.source === d.target && /^[a-z0-9.-]+\/[a-zA-Z0-9_.-]+=[a-zA-Z0-9_.:-]+$/.test(d.source)

const request = (d: DeviceRequest, extra: Strings): EngineDeviceRequest => ({
  Driver: d.driver ?? "",
  Count: d.count ?? 0,
  DeviceIDs: d.deviceIds ?? [],
  Capabilities: [[...(d.capabilities ?? []), ...extra]],
  Options: d.options ?? {}
})

const rates = (xs: ReadonlyArray<{ readonly path: string; readonly rate: number }> | undefined) =>
  xs?.map((x) => ({ Path: x.path, Rate: x.rate }))

/** Only the keys that have a value: the engine's defaults stay the engine's. */
const defined = <A>(o: { readonly [K in keyof A]?: A[K] | undefined }): A => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as A
}

export const optionFields = (o: ContainerOptions): OptionFields => {
  const devices = o.devices ?? []
  const cdi = devices.filter(isCdi).map((d) => d.source)
  const requests = [
    ...(cdi.length === 0 ? [] : [{ Driver: "cdi", Count: 0, DeviceIDs: cdi, Capabilities: [], Options: {} }]),
    ...(o.gpus ?? []).map((g) => request(g, ["gpu"])),
    ...(o.reservedDevices ?? []).map((d) => request(d, []))
  ]
  const cred = o.credentialSpec
  // `systempaths=unconfined` is the docker CLI's: the engine takes it as no masked or read-only paths.
  const unconfined = o.securityOpt?.includes(UNCONFINED) === true
  const security = [
    ...(o.securityOpt ?? []).filter((s) => s !== UNCONFINED),
    ...(cred?.file === undefined ? [] : [`credentialspec=file://${cred.file}`]),
    ...(cred?.registry === undefined ? [] : [`credentialspec=registry://${cred.registry}`])
  ]
  const blkio = o.blkioConfig
  const links = [...(o.links ?? []), ...(o.externalLinks ?? [])]
  const mapped = devices.filter((d) => !isCdi(d))
  return {
    config: defined<OptionConfigFields>({
      Tty: o.tty,
      OpenStdin: o.stdinOpen,
      MacAddress: o.macAddress,
      Domainname: o.domainname,
      ExposedPorts: o.expose === undefined ? undefined : exposed(o.expose)
    }),
    hostConfig: defined<OptionHostFields>({
      Links: links.length === 0 ? undefined : links,
      Dns: o.dns,
      DnsOptions: o.dnsOpt,
      DnsSearch: o.dnsSearch,
      Sysctls: o.sysctls,
      Ulimits:
        o.ulimits === undefined
          ? undefined
          : Object.entries(o.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
      LogConfig:
        o.logging === undefined ? undefined : { Type: o.logging.driver ?? "", Config: o.logging.options ?? {} },
      SecurityOpt: security.length === 0 ? undefined : security,
      Privileged: o.privileged,
      Devices:
        mapped.length === 0
          ? undefined
          : mapped.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions })),
      DeviceCgroupRules: o.deviceCgroupRules,
      DeviceRequests: requests.length === 0 ? undefined : requests,
      GroupAdd: o.groupAdd,
      IpcMode: o.ipc,
      PidMode: o.pid,
      UTSMode: o.uts,
      UsernsMode: o.usernsMode,
      CgroupnsMode: o.cgroup,
      CgroupParent: o.cgroupParent,
      ShmSize: o.shmSize,
      Runtime: o.runtime,
      Isolation: o.isolation,
      StorageOpt: o.storageOpt,
      OomKillDisable: o.oomKillDisable,
      OomScoreAdj: o.oomScoreAdj,
      MemorySwappiness: o.memSwappiness,
      MemorySwap: o.memswapLimit,
      CpuCount: o.cpuCount,
      CpuPercent: o.cpuPercent,
      CpuShares: o.cpuShares,
      CpuQuota: o.cpuQuota,
      CpuPeriod: o.cpuPeriod,
      CpuRealtimePeriod: o.cpuRtPeriod,
      CpuRealtimeRuntime: o.cpuRtRuntime,
      CpusetCpus: o.cpuset,
      BlkioWeight: blkio?.weight,
      BlkioWeightDevice: blkio?.weightDevice?.map((w) => ({ Path: w.path, Weight: w.weight })),
      BlkioDeviceReadBps: rates(blkio?.deviceReadBps),
      BlkioDeviceReadIOps: rates(blkio?.deviceReadIops),
      BlkioDeviceWriteBps: rates(blkio?.deviceWriteBps),
      BlkioDeviceWriteIOps: rates(blkio?.deviceWriteIops),
      Annotations: o.annotations,
      VolumesFrom: o.volumesFrom,
      Binds: o.useApiSocket === true ? ["/var/run/docker.sock:/var/run/docker.sock"] : undefined,
      MaskedPaths: unconfined ? [] : undefined,
      ReadonlyPaths: unconfined ? [] : undefined
    }),
    endpoint: links.length === 0 ? {} : { Links: links },
    query: o.platform === undefined ? {} : { platform: o.platform }
  }
}

/**
 * The containers a create names and the engine looks up (it refuses a missing one with 400): the
 * sources of `volumes_from`, and the containers whose IPC and PID namespaces are joined (which must
 * be running when this one starts).
 */
export const referencedContainers = (
  o: ContainerOptions | undefined
): { readonly volumesFrom: Strings; readonly ipc?: string; readonly pid?: string } => {
  const joined = (mode: string | undefined) =>
    mode?.startsWith("container:") === true ? mode.slice("container:".length) : undefined
  const ipc = joined(o?.ipc)
  const pid = joined(o?.pid)
  return {
    volumesFrom: (o?.volumesFrom ?? []).map((v) => v.replace(/:(ro|rw)$/, "")),
    ...(ipc === undefined ? {} : { ipc }),
    ...(pid === undefined ? {} : { pid })
  }
}
