/**
 * From a `ContainerConfig` to the body of `POST /containers/create` (API 1.41). The engine takes one
 * network at create: the first network goes in `NetworkingConfig` with its aliases, the others are
 * returned in `connect`, to attach with `POST /networks/{name}/connect` afterwards.
 *
 * Mounts go in `HostConfig.Mounts`, except binds that may create their host path (Compose's default)
 * and named volumes with SELinux relabelling: those go in `HostConfig.Binds` (`SOURCE:TARGET:OPTIONS`),
 * the only form in which the engine creates a missing host directory or relabels, on its own host
 * (so also on a remote engine). This is what Compose does.
 */
import type { ContainerConfig } from "../../core/model/plan.ts"
import { type OptionConfigFields, type OptionFields, type OptionHostFields, optionFields } from "./create-options.ts"
import type { NetworkSpec } from "./Docker.ts"

export interface EndpointSettings {
  readonly Aliases?: ReadonlyArray<string>
  readonly IPAMConfig?: {
    readonly IPv4Address?: string
    readonly IPv6Address?: string
    readonly LinkLocalIPs?: ReadonlyArray<string>
  }
  readonly MacAddress?: string
  readonly DriverOpts?: Readonly<Record<string, string>>
  readonly GwPriority?: number
}

export interface MountBody {
  readonly Type: "volume" | "bind" | "tmpfs"
  readonly Source?: string
  readonly Target: string
  readonly ReadOnly: boolean
  readonly BindOptions?: { readonly Propagation: string }
  readonly VolumeOptions?: { readonly NoCopy?: boolean; readonly Subpath?: string }
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number }
}

export interface CreateBody extends OptionConfigFields {
  readonly Image: string
  readonly Cmd?: ReadonlyArray<string>
  readonly Entrypoint?: ReadonlyArray<string>
  readonly Env: ReadonlyArray<string>
  readonly Labels: Readonly<Record<string, string>>
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>
  readonly Healthcheck?: {
    readonly Test?: ReadonlyArray<string>
    readonly Interval?: number
    readonly Timeout?: number
    readonly StartPeriod?: number
    readonly StartInterval?: number
    readonly Retries?: number
  }
  readonly StopSignal?: string
  readonly StopTimeout?: number
  readonly User?: string
  readonly WorkingDir?: string
  readonly Hostname?: string
  /** The primary network's MAC address: engines before API 1.44 take it only here. */
  readonly MacAddress?: string
  readonly HostConfig: OptionHostFields & {
    readonly PortBindings?: Readonly<
      Record<string, ReadonlyArray<{ readonly HostIp: string; readonly HostPort: string }>>
    >
    readonly Binds?: ReadonlyArray<string>
    readonly Mounts?: ReadonlyArray<MountBody>
    readonly Tmpfs?: Readonly<Record<string, string>>
    readonly RestartPolicy?: { readonly Name: string; readonly MaximumRetryCount: number }
    readonly Init?: boolean
    readonly CapAdd?: ReadonlyArray<string>
    readonly CapDrop?: ReadonlyArray<string>
    readonly ReadonlyRootfs?: boolean
    readonly ExtraHosts?: ReadonlyArray<string>
    readonly NanoCpus?: number
    readonly Memory?: number
    readonly MemoryReservation?: number
    readonly PidsLimit?: number
    readonly NetworkMode?: string
  }
  readonly NetworkingConfig?: { readonly EndpointsConfig: Readonly<Record<string, EndpointSettings>> }
}

export interface NetworkAttachment {
  readonly network: string
  readonly endpoint: EndpointSettings
}

const msToNs = (ms: number): number => Math.round(ms * 1_000_000)

/** The endpoint driver option that names the interface in the container (`interface_name`). */
const IFNAME = "com.docker.network.endpoint.ifname"

const endpointOf = (n: ContainerConfig["networks"][number]): EndpointSettings => {
  const ipam = {
    ...(n.ipv4Address === undefined ? {} : { IPv4Address: n.ipv4Address }),
    ...(n.ipv6Address === undefined ? {} : { IPv6Address: n.ipv6Address }),
    ...(n.linkLocalIps === undefined ? {} : { LinkLocalIPs: n.linkLocalIps })
  }
  const driverOpts = n.interfaceName === undefined ? n.driverOpts : { ...n.driverOpts, [IFNAME]: n.interfaceName }
  return {
    ...(n.aliases.length === 0 ? {} : { Aliases: n.aliases }),
    ...(Object.keys(ipam).length === 0 ? {} : { IPAMConfig: ipam }),
    ...(n.macAddress === undefined ? {} : { MacAddress: n.macAddress }),
    ...(driverOpts === undefined ? {} : { DriverOpts: driverOpts }),
    ...(n.gwPriority === undefined ? {} : { GwPriority: n.gwPriority })
  }
}

type MountConfig = ContainerConfig["mounts"][number]

/** `SOURCE:TARGET:OPTIONS` for `HostConfig.Binds`, or undefined when the mount needs `HostConfig.Mounts`. */
export const bindString = (m: MountConfig): string | undefined => {
  const bindLike =
    (m.type === "bind" && m.createHostPath !== false) ||
    (m.type === "volume" && m.selinux !== undefined && m.source !== undefined && m.subpath === undefined)
  // A colon in a path cannot be written in the bind form: the mount API takes it (without creating the path).
  if (!bindLike || m.source === undefined || m.source.includes(":") || m.target.includes(":")) return undefined
  const options = [m.readOnly ? "ro" : "rw", m.selinux, m.propagation, m.noCopy === true ? "nocopy" : undefined]
  return `${m.source}:${m.target}:${options.filter((o) => o !== undefined).join(",")}`
}

const mountOf = (m: MountConfig): MountBody => {
  const volumeOptions = {
    ...(m.noCopy === true ? { NoCopy: true } : {}),
    ...(m.subpath === undefined ? {} : { Subpath: m.subpath })
  }
  const tmpfsOptions = {
    ...(m.sizeBytes === undefined ? {} : { SizeBytes: m.sizeBytes }),
    ...(m.mode === undefined ? {} : { Mode: m.mode })
  }
  return {
    Type: m.type,
    ...(m.source === undefined || m.type === "tmpfs" ? {} : { Source: m.source }),
    Target: m.target,
    ReadOnly: m.readOnly,
    ...(m.type === "bind" && m.propagation !== undefined ? { BindOptions: { Propagation: m.propagation } } : {}),
    ...(m.type === "volume" && Object.keys(volumeOptions).length > 0 ? { VolumeOptions: volumeOptions } : {}),
    ...(m.type === "tmpfs" && Object.keys(tmpfsOptions).length > 0 ? { TmpfsOptions: tmpfsOptions } : {})
  }
}

/** The body of `POST /networks/create`. */
export const networkBody = (spec: NetworkSpec) => ({
  Name: spec.name,
  // API 1.41 creates a second network of the same name unless asked not to.
  CheckDuplicate: true,
  ...(spec.driver === undefined ? {} : { Driver: spec.driver }),
  ...(spec.driverOpts === undefined ? {} : { Options: spec.driverOpts }),
  ...(spec.ipam === undefined
    ? {}
    : {
        IPAM: {
          Driver: spec.ipam.driver ?? "default",
          Config: (spec.ipam.config ?? []).map((p) => ({
            ...(p.subnet === undefined ? {} : { Subnet: p.subnet }),
            ...(p.ipRange === undefined ? {} : { IPRange: p.ipRange }),
            ...(p.gateway === undefined ? {} : { Gateway: p.gateway }),
            ...(p.auxAddresses === undefined ? {} : { AuxiliaryAddresses: p.auxAddresses })
          })),
          ...(spec.ipam.options === undefined ? {} : { Options: spec.ipam.options })
        }
      }),
  ...(spec.internal === undefined ? {} : { Internal: spec.internal }),
  ...(spec.attachable === undefined ? {} : { Attachable: spec.attachable }),
  ...(spec.enableIpv6 === undefined ? {} : { EnableIPv6: spec.enableIpv6 }),
  Labels: spec.labels
})

/** `/run` or `/run:size=64m,mode=1777` -> ["/run", "size=64m,mode=1777"]. */
const tmpfsEntry = (spec: string): readonly [string, string] => {
  const i = spec.indexOf(":")
  return i === -1 ? [spec, ""] : [spec.slice(0, i), spec.slice(i + 1)]
}

export const healthcheckBody = (
  hc: NonNullable<ContainerConfig["healthcheck"]>
): NonNullable<CreateBody["Healthcheck"]> => ({
  ...(hc.test.length === 0 ? {} : { Test: hc.test }),
  ...(hc.intervalMs === undefined ? {} : { Interval: msToNs(hc.intervalMs) }),
  ...(hc.timeoutMs === undefined ? {} : { Timeout: msToNs(hc.timeoutMs) }),
  ...(hc.startPeriodMs === undefined ? {} : { StartPeriod: msToNs(hc.startPeriodMs) }),
  ...(hc.startIntervalMs === undefined ? {} : { StartInterval: msToNs(hc.startIntervalMs) }),
  ...(hc.retries === undefined ? {} : { Retries: hc.retries })
})

/** The service's engine settings (create-options.ts) on top of the rest: the one place they are merged. */
const withOptions = (body: CreateBody, o: OptionFields | undefined): CreateBody => {
  if (o === undefined) return body
  const ports = body.ExposedPorts
  const binds = [...(body.HostConfig.Binds ?? []), ...(o.hostConfig.Binds ?? [])]
  const endpoints = body.NetworkingConfig?.EndpointsConfig ?? {}
  return {
    ...body,
    ...o.config,
    ...(ports === undefined ? {} : { ExposedPorts: { ...o.config.ExposedPorts, ...ports } }),
    HostConfig: { ...body.HostConfig, ...o.hostConfig, ...(binds.length === 0 ? {} : { Binds: binds }) },
    ...(body.NetworkingConfig === undefined
      ? {}
      : {
          NetworkingConfig: {
            EndpointsConfig: Object.fromEntries(Object.entries(endpoints).map(([k, e]) => [k, { ...e, ...o.endpoint }]))
          }
        })
  }
}

export const createBody = (
  c: ContainerConfig
): {
  readonly body: CreateBody
  readonly connect: ReadonlyArray<NetworkAttachment>
  readonly query: OptionFields["query"]
} => {
  const exposed: Record<string, Record<string, never>> = {}
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {}
  for (const p of c.ports) {
    const key = `${p.target}/${p.protocol}`
    exposed[key] = {}
    const list = bindings[key] ?? []
    const hostPort =
      p.published === undefined
        ? ""
        : p.publishedEnd === undefined
          ? String(p.published)
          : `${p.published}-${p.publishedEnd}`
    list.push({ HostIp: p.hostIp ?? "", HostPort: hostPort })
    bindings[key] = list
  }
  const tmpfs: Record<string, string> = {}
  for (const t of c.tmpfs ?? []) {
    const [path, options] = tmpfsEntry(t)
    tmpfs[path] = options
  }
  const binds: Array<string> = []
  const mounts: Array<MountBody> = []
  for (const m of c.mounts) {
    const bind = bindString(m)
    if (bind === undefined) mounts.push(mountOf(m))
    else binds.push(bind)
  }
  const r = c.resources
  const [primary, ...others] = c.networks
  const hostConfig: CreateBody["HostConfig"] = {
    ...(c.ports.length === 0 ? {} : { PortBindings: bindings }),
    ...(binds.length === 0 ? {} : { Binds: binds }),
    ...(mounts.length === 0 ? {} : { Mounts: mounts }),
    ...(Object.keys(tmpfs).length === 0 ? {} : { Tmpfs: tmpfs }),
    ...(c.restart === undefined
      ? {}
      : { RestartPolicy: { Name: c.restart, MaximumRetryCount: c.restartRetries ?? 0 } }),
    ...(c.init === undefined ? {} : { Init: c.init }),
    ...(c.capAdd === undefined ? {} : { CapAdd: c.capAdd }),
    ...(c.capDrop === undefined ? {} : { CapDrop: c.capDrop }),
    ...(c.readOnly === undefined ? {} : { ReadonlyRootfs: c.readOnly }),
    ...(c.extraHosts === undefined ? {} : { ExtraHosts: c.extraHosts }),
    ...(r?.cpus === undefined ? {} : { NanoCpus: Math.round(r.cpus * 1e9) }),
    ...(r?.memoryBytes === undefined ? {} : { Memory: r.memoryBytes }),
    ...(r?.memoryReservationBytes === undefined ? {} : { MemoryReservation: r.memoryReservationBytes }),
    ...(r?.pids === undefined ? {} : { PidsLimit: r.pids }),
    ...(c.networkMode !== undefined
      ? { NetworkMode: c.networkMode }
      : primary === undefined
        ? {}
        : { NetworkMode: primary.name })
  }
  const body: CreateBody = {
    Image: c.image,
    ...(c.command === undefined ? {} : { Cmd: c.command }),
    ...(c.entrypoint === undefined ? {} : { Entrypoint: c.entrypoint }),
    Env: c.env.map(([k, v]) => `${k}=${v}`),
    Labels: c.labels,
    ...(c.ports.length === 0 ? {} : { ExposedPorts: exposed }),
    ...(c.healthcheck === undefined ? {} : { Healthcheck: healthcheckBody(c.healthcheck) }),
    ...(c.stopSignal === undefined ? {} : { StopSignal: c.stopSignal }),
    ...(c.stopGracePeriodMs === undefined ? {} : { StopTimeout: Math.ceil(c.stopGracePeriodMs / 1000) }),
    ...(c.user === undefined ? {} : { User: c.user }),
    ...(c.workingDir === undefined ? {} : { WorkingDir: c.workingDir }),
    ...(c.hostname === undefined ? {} : { Hostname: c.hostname }),
    ...(primary?.macAddress === undefined ? {} : { MacAddress: primary.macAddress }),
    HostConfig: hostConfig,
    ...(primary === undefined ? {} : { NetworkingConfig: { EndpointsConfig: { [primary.name]: endpointOf(primary) } } })
  }
  const options = c.options === undefined ? undefined : optionFields(c.options)
  return {
    body: withOptions(body, options),
    connect: others.map((n) => ({ network: n.name, endpoint: { ...endpointOf(n), ...options?.endpoint } })),
    query: options?.query ?? {}
  }
}
