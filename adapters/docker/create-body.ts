/**
 * From a `ContainerConfig` to the body of `POST /containers/create` (API 1.41). The engine takes one
 * network at create: the first network goes in `NetworkingConfig` with its aliases, the others are
 * returned in `connect`, to attach with `POST /networks/{name}/connect` afterwards.
 */
import type { ContainerConfig } from "../../core/model/plan.ts"
import { type OptionConfigFields, type OptionFields, type OptionHostFields, optionFields } from "./create-options.ts"

export interface EndpointSettings {
  readonly Aliases?: ReadonlyArray<string>
  readonly IPAMConfig?: { readonly IPv4Address: string }
  readonly Links?: ReadonlyArray<string>
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
  readonly HostConfig: OptionHostFields & {
    readonly PortBindings?: Readonly<
      Record<string, ReadonlyArray<{ readonly HostIp: string; readonly HostPort: string }>>
    >
    readonly Mounts?: ReadonlyArray<{
      readonly Type: "volume" | "bind" | "tmpfs"
      readonly Source?: string
      readonly Target: string
      readonly ReadOnly: boolean
    }>
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

const endpointOf = (n: ContainerConfig["networks"][number]): EndpointSettings => ({
  ...(n.aliases.length === 0 ? {} : { Aliases: n.aliases }),
  ...(n.ipv4Address === undefined ? {} : { IPAMConfig: { IPv4Address: n.ipv4Address } })
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
    list.push({ HostIp: p.hostIp ?? "", HostPort: p.published === undefined ? "" : String(p.published) })
    bindings[key] = list
  }
  const tmpfs: Record<string, string> = {}
  for (const t of c.tmpfs ?? []) {
    const [path, options] = tmpfsEntry(t)
    tmpfs[path] = options
  }
  const r = c.resources
  const [primary, ...others] = c.networks
  const hostConfig: CreateBody["HostConfig"] = {
    ...(c.ports.length === 0 ? {} : { PortBindings: bindings }),
    ...(c.mounts.length === 0
      ? {}
      : {
          Mounts: c.mounts.map((m) => ({
            Type: m.type,
            ...(m.source === undefined || m.type === "tmpfs" ? {} : { Source: m.source }),
            Target: m.target,
            ReadOnly: m.readOnly
          }))
        }),
    ...(Object.keys(tmpfs).length === 0 ? {} : { Tmpfs: tmpfs }),
    ...(c.restart === undefined ? {} : { RestartPolicy: { Name: c.restart, MaximumRetryCount: 0 } }),
    ...(c.init === undefined ? {} : { Init: c.init }),
    ...(c.capAdd === undefined ? {} : { CapAdd: c.capAdd }),
    ...(c.capDrop === undefined ? {} : { CapDrop: c.capDrop }),
    ...(c.readOnly === undefined ? {} : { ReadonlyRootfs: c.readOnly }),
    ...(c.extraHosts === undefined ? {} : { ExtraHosts: c.extraHosts }),
    ...(r?.cpus === undefined ? {} : { NanoCpus: Math.round(r.cpus * 1e9) }),
    ...(r?.memoryBytes === undefined ? {} : { Memory: r.memoryBytes }),
    ...(r?.memoryReservationBytes === undefined ? {} : { MemoryReservation: r.memoryReservationBytes }),
    ...(r?.pids === undefined ? {} : { PidsLimit: r.pids }),
    ...(primary === undefined ? {} : { NetworkMode: primary.name })
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
