/** Turns one service's decision into actions on one host, and returns its readiness handle. */
import { containerName, Label, nextName, oldName } from "../names.ts"
import type { App } from "../model/desired.ts"
import type { ObservedContainer } from "../model/observed.ts"
import type { Action, ContainerConfig, ContainerRef, Step } from "../model/plan.ts"
import type { PlanContext } from "./context.ts"
import type { Decision } from "./decide.ts"
import type { PreparedService } from "./prepare.ts"
import { makeHandle, type ServiceHandle } from "./ready.ts"
import type { HostView } from "./view.ts"

export interface EmitInput {
  readonly ctx: PlanContext
  readonly host: string
  readonly view: HostView
  readonly app: App
  readonly prepared: PreparedService
  readonly decision: Decision
  readonly container: ObservedContainer | undefined
  readonly leftovers: ReadonlyArray<ObservedContainer>
  /** Actions the service's first action waits for: dependencies, providers, hooks. */
  readonly entryWaits: ReadonlyArray<string>
  /** Why a dependency or provider cannot be ready: the service's changes become a skip. */
  readonly blockedBy: string | undefined
}

export const isMutating = (d: Decision): boolean => d.do === "create" || d.do === "start" || d.do === "recreate"

const refOf = (c: ObservedContainer): ContainerRef => ({ name: c.name, id: c.id })

/** Networks, volumes and the image a new container needs on this host; shared per host. */
const resources = (input: EmitInput, config: ContainerConfig): Array<string> => {
  const { ctx, host, view, app } = input
  const waits: Array<string> = []
  const labels = { [Label.scope]: ctx.scope, [Label.app]: app.name }
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
        network: {
          name: net.name,
          ...(declared?.driver === undefined ? {} : { driver: declared.driver }),
          ...(declared?.internal === undefined ? {} : { internal: declared.internal }),
          labels: { ...(declared?.labels ?? {}), ...labels }
        }
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
  if (ctx.policy.pull === "always" || !view.imageIdByTag.has(config.image)) {
    waits.push(
      ctx.builder.shareOrAdd(`${host}:pull:${config.image}`, () => ({
        _tag: "pull-image",
        id: `${host}:pull:${config.image}`,
        host,
        app: app.name,
        reason: ctx.policy.pull === "always" ? "pull policy: always" : "image not present",
        waitsFor: [],
        image: config.image,
        ...(config.options?.platform === undefined ? {} : { platform: config.options.platform })
      }))
    )
  }
  return waits
}

/** Replacing a writable mount or a fixed port beside the old container is unsafe or impossible. */
const mustStopFirst = (config: ContainerConfig): boolean =>
  config.ports.some((p) => p.published !== undefined) ||
  config.mounts.some((m) => (m.type === "volume" || m.type === "bind") && !m.readOnly) ||
  config.networks.some((n) => n.ipv4Address !== undefined)

const replacementSteps = (
  strategy: "start-first" | "stop-first" | "remove-first",
  current: ContainerRef,
  config: ContainerConfig,
  timeoutMs: number,
  oneShot: boolean
): { steps: Array<Step>; rollback: Array<Step> } => {
  const name = config.name
  const stopTimeout = config.stopGracePeriodMs === undefined ? {} : { timeoutMs: config.stopGracePeriodMs }
  switch (strategy) {
    case "start-first": {
      const next = nextName(name)
      return {
        steps: [
          { _tag: "create", container: { ...config, name: next } },
          { _tag: "start", container: { name: next } },
          { _tag: "wait-healthy", container: { name: next }, timeoutMs },
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
          { _tag: "start", container: { name } },
          { _tag: "wait-healthy", container: { name }, timeoutMs },
          { _tag: "remove", container: parked }
        ],
        rollback: [
          { _tag: "remove", container: { name } },
          { _tag: "rename", container: parked, to: name },
          { _tag: "start", container: { name } }
        ]
      }
    }
    case "remove-first":
      return {
        steps: [
          { _tag: "remove", container: current },
          { _tag: "create", container: config },
          { _tag: "start", container: { name } },
          ...(oneShot ? [] : ([{ _tag: "wait-healthy", container: { name }, timeoutMs }] as const))
        ],
        rollback: []
      }
  }
}

export const emitService = (input: EmitInput): ServiceHandle => {
  const { ctx, host, app, prepared: ps, decision, container } = input
  const b = ctx.builder
  if (decision.do === "nothing" && input.leftovers.length === 0) {
    // The quiet path: nothing to emit, only readiness for dependents.
    return makeHandle({
      host,
      app: app.name,
      service: ps.name,
      container: ps.config.name,
      oneShot: ps.oneShot,
      timeoutMs: ps.timeoutMs,
      last: undefined,
      gated: false,
      blockedReason: undefined,
      observed: container,
      builder: b
    })
  }
  const id = (suffix: string) => `${host}/${app.name}/${ps.name}:${suffix}`
  const canonical = containerName(app.name, ps.name)
  const base = { host, app: app.name, service: ps.name }
  const handle = (last: string | undefined, gated: boolean, blockedReason: string | undefined): ServiceHandle =>
    makeHandle({
      host,
      app: app.name,
      service: ps.name,
      container: canonical,
      oneShot: ps.oneShot,
      timeoutMs: ps.timeoutMs,
      last,
      gated,
      blockedReason,
      observed: container,
      builder: b
    })

  const leftoverIds = input.leftovers.map(
    (c) =>
      b.add({
        _tag: "remove",
        ...base,
        id: id(`remove:${c.name}`),
        reason:
          c.name === nextName(canonical) || c.name === oldName(canonical)
            ? "leftover of an interrupted replacement"
            : `another container of ${app.name}/${ps.name} (the service runs as ${canonical})`,
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

  const labelled = (): ContainerConfig => ps.labelled(ctx.scope)
  const entry = [...input.entryWaits, ...leftoverIds]
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
        container: { name: canonical }
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
        ...(decision.heal ? { restartOf: ps.specHash } : {})
      }
      b.add(start)
      return handle(start.id, false, undefined)
    }
    case "recreate": {
      const config = labelled()
      const strategy =
        decision.notServing || ps.oneShot ? "remove-first" : mustStopFirst(config) ? "stop-first" : "start-first"
      const { steps, rollback } = replacementSteps(strategy, refOf(container!), config, ps.timeoutMs, ps.oneShot)
      const recreate = b.add({
        _tag: "recreate",
        ...base,
        id: id("recreate"),
        reason: decision.reason,
        waitsFor: [...entry, ...resources(input, config)],
        current: refOf(container!),
        container: config,
        changes: decision.changes,
        strategy,
        steps,
        rollback,
        ...(decision.heal ? { restartOf: ps.specHash } : {})
      })
      return handle(recreate.id, strategy !== "remove-first" || !ps.oneShot, undefined)
    }
  }
  return handle(undefined, false, undefined)
}
