/** Turns one service's decision into actions on one host, and returns its readiness handle. */
import { Label, nextName, oldName } from "../names.ts"
import type { App, Rollout } from "../model/desired.ts"
import type { ObservedContainer } from "../model/observed.ts"
import type { Action, ContainerConfig, ContainerRef, Step } from "../model/plan.ts"
import type { PlanContext } from "./context.ts"
import type { Decision } from "./decide.ts"
import { networkSpec } from "./networks.ts"
import type { PreparedService } from "./prepare.ts"
import { pullReason } from "./pulls.ts"
import { makeHandle, type ServiceHandle, serviceActionId } from "./ready.ts"
import type { HostView } from "./view.ts"

export interface EmitInput {
  readonly ctx: PlanContext
  readonly host: string
  readonly view: HostView
  readonly app: App
  readonly prepared: PreparedService
  /** Which of the service's containers (from 1). */
  readonly replica: number
  readonly decision: Decision
  readonly container: ObservedContainer | undefined
  readonly leftovers: ReadonlyArray<ObservedContainer>
  /** Actions the service's first action waits for: dependencies, providers, hooks. */
  readonly entryWaits: ReadonlyArray<string>
  /** Why a dependency or provider cannot be ready: the service's changes become a skip. */
  readonly blockedBy: string | undefined
  /** Replacements of other replicas this one's waits for to end (rolling updates), and the pause first. */
  readonly rolling?: { readonly after: ReadonlyArray<string>; readonly strict: boolean; readonly delayMs: number }
}

export const isMutating = (d: Decision): boolean => d.do === "create" || d.do === "start" || d.do === "recreate"

const refOf = (c: ObservedContainer): ContainerRef => ({ name: c.name, id: c.id })

/** Networks, volumes and the image a new container needs on this host; shared per host. */
const resources = (input: EmitInput, config: ContainerConfig): Array<string> => {
  const { ctx, host, view, app } = input
  const waits: Array<string> = []
  const labels = { [Label.scope]: ctx.scope, [Label.app]: app.name, ...ctx.originLabels }
  const networkKeys = new Map<string, string>()
  for (const [key, n] of Object.entries(app.networks ?? {})) networkKeys.set(n.name ?? `${app.name}_${key}`, key)
  for (const net of config.networks) {
    if (view.networks.has(net.name)) continue
    const declared = app.networks?.[networkKeys.get(net.name) ?? "default"]
    if (declared?.external === true) continue
    waits.push(
      ctx.builder.shareOrAdd(`${host}:network:${net.name}`, () => ({
        _tag: "ensure-network",
        id: `${host}:network:${net.name}`,
        host,
        app: app.name,
        reason: "missing",
        waitsFor: [],
        network: networkSpec(net.name, declared, labels)
      }))
    )
  }
  const volumeKeys = new Map<string, string>()
  for (const [key, v] of Object.entries(app.volumes ?? {})) volumeKeys.set(v.name ?? `${app.name}_${key}`, key)
  for (const m of config.mounts) {
    if (m.type !== "volume" || m.source === undefined || view.volumes.has(m.source)) continue
    const declared = app.volumes?.[volumeKeys.get(m.source) ?? ""]
    if (declared === undefined || declared.external === true) continue
    const name = m.source
    waits.push(
      ctx.builder.shareOrAdd(`${host}:volume:${name}`, () => ({
        _tag: "ensure-volume",
        id: `${host}:volume:${name}`,
        host,
        app: app.name,
        reason: "missing",
        waitsFor: [],
        volume: {
          name,
          ...(declared.driver === undefined ? {} : { driver: declared.driver }),
          ...(declared.driverOpts === undefined ? {} : { driverOpts: declared.driverOpts }),
          labels: { ...(declared.labels ?? {}), ...labels }
        }
      }))
    )
  }
  const reason = ctx.policy.pull === "always" ? "pull policy: always" : pullReason(ctx, view, input.prepared)
  if (reason !== undefined) waits.push(pullImage(ctx, host, app.name, config.image, reason, config.options?.platform))
  return waits
}

/** The host's one pull of an image in this plan, shared by every service that needs it. */
export const pullImage = (
  ctx: PlanContext,
  host: string,
  app: string,
  image: string,
  reason: string,
  platform: string | undefined
): string =>
  ctx.builder.shareOrAdd(`${host}:pull:${image}`, () => ({
    _tag: "pull-image",
    id: `${host}:pull:${image}`,
    host,
    app,
    reason,
    waitsFor: [],
    image,
    ...(platform === undefined ? {} : { platform })
  }))

/** A second container beside the old one could not start: it would need the same host port, address or network stack. */
const cannotRunBeside = (config: ContainerConfig): boolean =>
  config.ports.some((p) => p.published !== undefined) ||
  config.networks.some(
    (n) =>
      n.ipv4Address !== undefined ||
      n.ipv6Address !== undefined ||
      n.linkLocalIps !== undefined ||
      n.macAddress !== undefined
  ) ||
  (config.networkMode !== undefined && config.networkMode !== "none")

/** Replacing a writable mount or a fixed port beside the old container is unsafe or impossible. */
const mustStopFirst = (config: ContainerConfig): boolean =>
  cannotRunBeside(config) || config.mounts.some((m) => (m.type === "volume" || m.type === "bind") && !m.readOnly)

/** `update_config.order` where it can be followed: start-first needs room for a second container. */
const strategyOf = (config: ContainerConfig, order: "start-first" | "stop-first" | undefined) =>
  order === "stop-first"
    ? "stop-first"
    : order === "start-first"
      ? cannotRunBeside(config)
        ? "stop-first"
        : "start-first"
      : mustStopFirst(config)
        ? "stop-first"
        : "start-first"

const replacementSteps = (
  strategy: "start-first" | "stop-first" | "remove-first",
  current: ContainerRef,
  config: ContainerConfig,
  timeoutMs: number,
  oneShot: boolean,
  monitorMs: number | undefined,
  rollbackConfig: Rollout | undefined
): { steps: Array<Step>; rollback: Array<Step> } => {
  // rollback_config: how the old container comes back (start it before the new one goes, when it can
  // run beside it) and how long it must then stay healthy.
  const rollbackOrder = rollbackConfig?.order
  const restoredHealthy = (c: ContainerRef): Array<Step> =>
    rollbackConfig?.monitorMs === undefined || rollbackConfig.monitorMs === 0
      ? []
      : [{ _tag: "wait-healthy", container: { name: c.name }, timeoutMs, monitorMs: rollbackConfig.monitorMs }]
  const name = config.name
  const stopTimeout = {
    ...(config.stopGracePeriodMs === undefined ? {} : { timeoutMs: config.stopGracePeriodMs }),
    ...(config.preStop === undefined ? {} : { preStop: config.preStop })
  }
  const hooks = config.postStart === undefined ? {} : { postStart: config.postStart }
  const monitor = monitorMs === undefined || monitorMs === 0 ? {} : { monitorMs }
  switch (strategy) {
    case "start-first": {
      const next = nextName(name)
      return {
        steps: [
          { _tag: "create", container: { ...config, name: next } },
          { _tag: "start", container: { name: next }, ...hooks },
          { _tag: "wait-healthy", container: { name: next }, timeoutMs, ...monitor },
          { _tag: "stop", container: current, ...stopTimeout },
          { _tag: "remove", container: current },
          { _tag: "rename", container: { name: next }, to: name }
        ],
        rollback: [{ _tag: "remove", container: { name: next } }]
      }
    }
    case "stop-first": {
      const parked: ContainerRef = { ...current, name: oldName(name) }
      return {
        steps: [
          { _tag: "stop", container: current, ...stopTimeout },
          { _tag: "rename", container: current, to: parked.name },
          { _tag: "create", container: config },
          { _tag: "start", container: { name }, ...hooks },
          { _tag: "wait-healthy", container: { name }, timeoutMs, ...monitor },
          { _tag: "remove", container: parked }
        ],
        rollback:
          rollbackOrder === "start-first" && !cannotRunBeside(config)
            ? [
                { _tag: "start", container: parked },
                ...restoredHealthy(parked),
                { _tag: "remove", container: { name } },
                { _tag: "rename", container: parked, to: name }
              ]
            : [
                { _tag: "remove", container: { name } },
                { _tag: "rename", container: parked, to: name },
                { _tag: "start", container: { name } },
                ...restoredHealthy({ name })
              ]
      }
    }
    case "remove-first":
      return {
        steps: [
          { _tag: "remove", container: current },
          { _tag: "create", container: config },
          { _tag: "start", container: { name }, ...hooks },
          ...(oneShot ? [] : ([{ _tag: "wait-healthy", container: { name }, timeoutMs, ...monitor }] as const))
        ],
        rollback: []
      }
  }
}

export const emitService = (input: EmitInput): ServiceHandle => {
  const { ctx, host, app, prepared: ps, decision, container, replica } = input
  const b = ctx.builder
  const canonical = ps.names[replica - 1] ?? ps.config.name
  const handle = (last: string | undefined, gated: boolean, blockedReason: string | undefined): ServiceHandle =>
    makeHandle({
      host,
      app: app.name,
      service: ps.name,
      container: canonical,
      replica,
      oneShot: ps.oneShot,
      timeoutMs: ps.timeoutMs,
      last,
      gated,
      blockedReason,
      observed: container,
      builder: b
    })
  // The quiet path: nothing to emit, only readiness for dependents.
  if (decision.do === "nothing" && input.leftovers.length === 0) return handle(undefined, false, undefined)
  const id = (suffix: string) => serviceActionId(host, app.name, ps.name, replica, suffix)
  const base = { host, app: app.name, service: ps.name }
  const replicaNames = new Set(ps.names.flatMap((n) => [nextName(n), oldName(n)]))

  const leftoverIds = input.leftovers.map(
    (c) =>
      b.add({
        _tag: "remove",
        ...base,
        id: id(`remove:${c.name}`),
        reason: replicaNames.has(c.name)
          ? "leftover of an interrupted replacement"
          : `another container of ${app.name}/${ps.name} (the service runs as ${ps.names.join(", ") || "no container"})`,
        waitsFor: [],
        container: refOf(c)
      }).id
  )

  if (decision.do === "wait") {
    b.add({ _tag: "skip", ...base, id: id("skip"), reason: decision.reason, waitsFor: [] })
    return handle(undefined, false, `is not ready (${decision.reason})`)
  }
  if (!isMutating(decision)) return handle(undefined, false, undefined)
  if (input.blockedBy !== undefined) {
    b.add({ _tag: "skip", ...base, id: id("skip"), reason: input.blockedBy, waitsFor: [] })
    return handle(undefined, false, `is not started (${input.blockedBy})`)
  }

  const labelled = (): ContainerConfig => {
    const config = ps.labelled(ctx.scope, replica)
    return Object.keys(ctx.originLabels).length === 0
      ? config
      : { ...config, labels: { ...config.labels, ...ctx.originLabels } }
  }
  const entry = [...input.entryWaits, ...leftoverIds]
  const postStart = (config: ContainerConfig) => (config.postStart === undefined ? {} : { postStart: config.postStart })
  switch (decision.do) {
    case "create": {
      const config = labelled()
      const create = b.add({
        _tag: "create",
        ...base,
        id: id("create"),
        reason: decision.reason,
        waitsFor: [...entry, ...resources(input, config)],
        container: config
      })
      const start = b.add({
        _tag: "start",
        ...base,
        id: id("start"),
        reason: "created",
        waitsFor: [create.id],
        container: { name: canonical },
        ...postStart(config)
      })
      return handle(start.id, false, undefined)
    }
    case "start": {
      const start: Action = {
        _tag: "start",
        ...base,
        id: id("start"),
        reason: decision.reason,
        waitsFor: entry,
        container: refOf(container!),
        ...postStart(ps.config),
        ...(decision.heal ? { restartOf: ps.specHash } : {})
      }
      b.add(start)
      return handle(start.id, false, undefined)
    }
    case "recreate": {
      const config = labelled()
      const strategy =
        decision.notServing || ps.oneShot
          ? "remove-first"
          : strategyOf(config, decision.heal ? undefined : ps.update.order)
      const { steps, rollback } = replacementSteps(
        strategy,
        refOf(container!),
        config,
        ps.timeoutMs,
        ps.oneShot,
        decision.heal ? undefined : ps.update.monitorMs,
        ps.service.rollback
      )
      const rolling = input.rolling
      const recreate = b.add({
        _tag: "recreate",
        ...base,
        id: id("recreate"),
        reason: decision.reason,
        waitsFor: [...entry, ...(rolling?.strict === true ? rolling.after : []), ...resources(input, config)],
        ...(rolling === undefined || rolling.strict || rolling.after.length === 0 ? {} : { after: rolling.after }),
        current: refOf(container!),
        container: config,
        changes: decision.changes,
        strategy,
        steps,
        // failure_action pause: a failed replacement is left as it is (the old container is not brought back).
        rollback: ps.update.failureAction === "pause" && !decision.heal ? [] : rollback,
        ...(rolling === undefined || rolling.delayMs === 0 || rolling.after.length === 0
          ? {}
          : { delayMs: rolling.delayMs }),
        ...(decision.heal ? { restartOf: ps.specHash } : {})
      })
      return handle(recreate.id, strategy !== "remove-first" || !ps.oneShot, undefined)
    }
  }
  return handle(undefined, false, undefined)
}
