/**
 * One desired app on all its hosts: resource checks, decisions per service, `requires` and
 * `on_start` hooks, then actions per host in `depends_on` order.
 */
import { engineCannotExpress } from "../engine-features.ts"
import { Label, nextName, oldName, serviceContainerName } from "../names.ts"
import type { App } from "../model/desired.ts"
import { type Action, passiveKinds } from "../model/plan.ts"
import type { ObservedContainer } from "../model/observed.ts"
import { handleOf, hostAppKey, hostServiceKey, type PlanContext } from "./context.ts"
import { type Decision, decide } from "./decide.ts"
import { emitService, isMutating, pullImage } from "./emit.ts"
import { networkWarnings } from "./networks.ts"
import { cannotPull, pullReason } from "./pulls.ts"
import type { PreparedApp, PreparedService } from "./prepare.ts"
import { combineHandles, makeHandle, now, type Ready, type ServiceHandle, serviceActionId } from "./ready.ts"
import type { HostView } from "./view.ts"

interface ReplicaDecision {
  /** From 1. */
  readonly replica: number
  readonly decision: Decision
  readonly container: ObservedContainer | undefined
}
interface ServiceDecision {
  readonly prepared: PreparedService
  readonly replicas: ReadonlyArray<ReplicaDecision>
  /** Containers of the service that are none of its replicas: removed before it is created. */
  readonly leftovers: ReadonlyArray<ObservedContainer>
  /** Replicas past the service's count: stopped and removed. */
  readonly scaledDown: ReadonlyArray<ObservedContainer>
  /** Why the image is pulled although its containers are as specified (`pull_policy: always`, `daily`...). */
  readonly refresh?: string
}
interface HostDecisions {
  readonly host: string
  readonly view: HostView
  readonly services: ReadonlyArray<ServiceDecision>
}

/** External networks and volumes must exist; nothing else can stop an app before its services. */
const missingExternal = (app: App, view: HostView): string | undefined => {
  for (const [key, n] of Object.entries(app.networks ?? {})) {
    const name = n.name ?? key
    if (n.external === true && !view.networks.has(name)) {
      return `external network ${name} does not exist on host ${view.host}: create it, or drop external: true`
    }
  }
  for (const [key, v] of Object.entries(app.volumes ?? {})) {
    const name = v.name ?? key
    if (v.external === true && !view.volumes.has(name)) {
      return `external volume ${name} does not exist on host ${view.host}: create it, or drop external: true`
    }
  }
  return undefined
}

/** A name moor needs is held by a container it does not own: that container is never touched, so the service waits. */
const guardNames = (scope: string, view: HostView, canonical: string, decision: Decision): Decision => {
  const needs =
    decision.do === "create" ? [canonical] : decision.do === "recreate" ? [nextName(canonical), oldName(canonical)] : []
  const taken = needs.find((n) => view.foreignNames.has(n))
  if (taken === undefined) return decision
  return {
    do: "wait",
    reason: `the container name ${taken} is taken by a container moor does not own (no ${Label.scope}=${scope} label); rename or remove it`
  }
}

/** A container the host's engine cannot create as specified is not created: one skip that says why. */
const guardEngine = (view: HostView, ps: PreparedService, decision: Decision): Decision => {
  if (decision.do !== "create" && decision.do !== "recreate") return decision
  const reason = engineCannotExpress(ps.config, view)
  return reason === undefined ? decision : { do: "wait", reason }
}

const NONE: ReadonlyArray<never> = []
const NOTHING: Decision = { do: "nothing" }

/** The common case, decided without the general rules: running as specified, healthy or without a health check. */
const isSteady = (c: ObservedContainer, specHash: string, version: string, imageId: string | undefined): boolean =>
  c.state === "running" &&
  (c.health === "healthy" || c.health === "none") &&
  c.labels[Label.hash] === specHash &&
  c.labels[Label.hashVersion] === version &&
  (imageId === undefined || c.imageId === "" || c.imageId === imageId)

const decideHost = (ctx: PlanContext, prepared: PreparedApp, host: string, view: HostView): HostDecisions => {
  const app = prepared.app
  const warn = (m: string) => ctx.warnings.push(m)
  const services = prepared.services.map((ps): ServiceDecision => {
    const all = view.byService.get(ps.key) ?? NONE
    const imageId = view.imageId(ps.config.image)
    // The common case, without the general rules: one replica, its one container steady.
    const only = all.length === 1 ? all[0] : undefined
    // A service moor cannot apply yet is left as it is: one skip, and its dependents wait with the reason.
    const notApplied = ps.service.notApplied
    if (notApplied !== undefined) {
      const container = all.find((c) => c.name === ps.config.name)
      return {
        prepared: ps,
        replicas: [{ replica: 1, container, decision: { do: "wait", reason: notApplied } }],
        leftovers: NONE,
        scaledDown: NONE
      }
    }
    if (
      ps.replicas === 1 &&
      ps.service.hosts === undefined &&
      (ps.service.pullPolicy === undefined || ps.service.pullPolicy === "missing") &&
      only !== undefined &&
      only.name === ps.config.name &&
      isSteady(only, ps.specHash, ctx.hashAlgorithms.current, imageId)
    ) {
      return {
        prepared: ps,
        replicas: [{ replica: 1, container: only, decision: NOTHING }],
        leftovers: NONE,
        scaledDown: NONE
      }
    }
    const restarts =
      ctx.restarts.size === 0 ? NONE : (ctx.restarts.get(hostServiceKey(host, app.name, ps.name)) ?? NONE)
    const failedRollout =
      ctx.failedRollouts.size === 0 ? undefined : ctx.failedRollouts.get(hostServiceKey(host, app.name, ps.name))
    // A service that runs on some hosts only has no replica here on the others.
    const here = ps.service.hosts === undefined || ps.service.hosts.includes(host)
    const replicas = (here ? ps.names : []).map((name, i): ReplicaDecision => {
      const container = all.find((c) => c.name === name)
      if (container !== undefined && isSteady(container, ps.specHash, ctx.hashAlgorithms.current, imageId))
        return { replica: i + 1, container, decision: NOTHING }
      const decision = decide({
        container,
        hashInput: ps.hashInput,
        fields: ps.fields,
        specHash: ps.specHash,
        hashAlgorithms: ctx.hashAlgorithms,
        desiredImageId: imageId,
        oneShot: ps.oneShot,
        restarts,
        failedRollout,
        policy: ps.policy,
        now: ctx.now,
        warn
      })
      return {
        replica: i + 1,
        container,
        decision:
          decision.do === "nothing" ? decision : guardNames(ctx.scope, view, name, guardEngine(view, ps, decision))
      }
    })
    const names = new Set(here ? ps.names : [])
    const others = all.filter((c) => !names.has(c.name))
    const scaledDown = others.filter((c) => (ps.isReplicaName(c.name) ?? 0) > (here ? ps.replicas : 0))
    const leftovers = others.filter((c) => !scaledDown.includes(c))
    const noImage = cannotPull(view, ps)
    const policy = ps.service.pullPolicy
    const refresh =
      ps.replicas === 0 || (policy !== "always" && policy !== "refresh") ? undefined : pullReason(ctx, view, ps)
    return {
      prepared: ps,
      replicas:
        noImage === undefined
          ? replicas
          : replicas.map((r) => (isMutating(r.decision) ? { ...r, decision: { do: "wait", reason: noImage } } : r)),
      leftovers,
      scaledDown,
      ...(refresh === undefined ? {} : { refresh })
    }
  })
  return { host, view, services }
}

/** Leaves the app alone on a host: one skip, and handles that tell dependents why. */
const skipOnHost = (ctx: PlanContext, prepared: PreparedApp, host: string, reason: string, exhausted = false): void => {
  const app = prepared.app
  ctx.builder.add({ _tag: "skip", id: `${host}/${app.name}:skip`, host, app: app.name, reason, waitsFor: [] })
  ctx.appOnHost.set(hostAppKey(host, app.name), { skipped: reason, exhausted, specHash: prepared.specHash })
  for (const ps of prepared.services) {
    ctx.handles.set(
      hostServiceKey(host, app.name, ps.name),
      makeHandle({
        host,
        app: app.name,
        service: ps.name,
        container: ps.config.name,
        replica: 1,
        oneShot: ps.oneShot,
        timeoutMs: ps.timeoutMs,
        last: undefined,
        gated: false,
        blockedReason: `is left alone (${reason})`,
        observed: undefined,
        builder: ctx.builder
      })
    )
  }
}

const collect = (readies: ReadonlyArray<Ready>): { waits: Array<string>; blocked: string | undefined } => {
  const waits: Array<string> = []
  for (const r of readies) {
    if (r._tag === "Blocked") return { waits, blocked: r.reason }
    if (r._tag === "After") waits.push(...r.ids)
  }
  return { waits, blocked: undefined }
}

interface HookCandidate {
  readonly action: Action & { readonly _tag: "run-hook" }
  readonly providerChanged: boolean
}

/**
 * What the consumer waits for from its providers: each provider ready on at least one of its hosts
 * (a host that is down does not hold back the others), and the `on_start` hooks that may run there.
 */
const requirements = (
  ctx: PlanContext,
  app: App
): { waits: Array<string>; hooks: Array<HookCandidate>; blocked: string | undefined } => {
  const waits: Array<string> = []
  const hooks: Array<HookCandidate> = []
  const b = ctx.builder
  for (const req of app.requires ?? []) {
    const provider = ctx.apps.get(req.app)
    if (provider === undefined) return { waits, hooks, blocked: `requires ${req.app}: not in spec` }
    const services = Object.keys(provider.services).sort()
    const reasons: Array<string> = []
    let ready = 0
    for (const ph of ctx.placement.get(req.app) ?? []) {
      const outcome = ctx.appOnHost.get(hostAppKey(ph, req.app))
      if (outcome?.skipped !== undefined) {
        reasons.push(`on host ${ph}: ${outcome.skipped}`)
        continue
      }
      b.begin()
      const handles = services.map((s) => handleOf(ctx, ph, req.app, s))
      const r = collect(handles.map((h) => h?.ready() ?? { _tag: "Blocked", reason: `${req.app} is not planned` }))
      if (r.blocked !== undefined) {
        b.rollback()
        reasons.push(`on host ${ph}: ${r.blocked}`)
        continue
      }
      b.commit()
      ready++
      waits.push(...r.waits)
      const hook = req.onStart
      if (hook === undefined) continue
      const service = hook.service ?? services[0]!
      const hookReady = handleOf(ctx, ph, req.app, service)?.ready()
      const providerChanged = handles.some((h) => h?.changed === true)
      hooks.push({
        providerChanged,
        action: {
          _tag: "run-hook",
          id: `${ph}/${req.app}:hook:${app.name}`,
          host: ph,
          app: req.app,
          service,
          reason: `on_start hook for ${app.name}`,
          waitsFor: hookReady?._tag === "After" ? [...hookReady.ids] : [],
          container: { name: serviceContainerName(provider, service) },
          script: hook.script,
          ...(hook.content === undefined ? {} : { content: hook.content }),
          consumer: { app: app.name, version: app.version ?? "" },
          env: {
            MOOR_CONSUMER_APP: app.name,
            MOOR_CONSUMER_VERSION: app.version ?? "",
            MOOR_PROVIDER_APP: req.app,
            MOOR_SCOPE: ctx.scope,
            MOOR_HOST: ph
          },
          timeoutMs: hook.timeoutMs ?? ctx.policy.hookTimeoutMs
        }
      })
    }
    if (ready === 0)
      return { waits, hooks, blocked: `requires ${req.app}: ${req.app} is not ready (${reasons.join("; ")})` }
  }
  return { waits: [...new Set(waits)], hooks, blocked: undefined }
}

/** Stops and removes the containers of a service past its replica count; nothing waits for them. */
const scaleDown = (ctx: PlanContext, host: string, app: string, sd: ServiceDecision): void => {
  const ps = sd.prepared
  const reason =
    ps.service.hosts !== undefined && !ps.service.hosts.includes(host)
      ? `its profile is not enabled on host ${host}`
      : `scaled down to ${ps.replicas} replica${ps.replicas === 1 ? "" : "s"}`
  for (const c of sd.scaledDown) {
    const base = { host, app, service: ps.name, reason, container: { name: c.name, id: c.id } }
    let waitsFor: Array<string> = []
    if (c.state === "running" || c.state === "restarting" || c.state === "paused") {
      const stop = ctx.builder.add({
        _tag: "stop",
        ...base,
        id: serviceActionId(host, app, ps.name, 1, `stop:${c.name}`),
        waitsFor,
        ...(ps.config.stopGracePeriodMs === undefined ? {} : { timeoutMs: ps.config.stopGracePeriodMs }),
        ...(ps.config.preStop === undefined ? {} : { preStop: ps.config.preStop })
      })
      waitsFor = [stop.id]
    }
    ctx.builder.add({
      _tag: "remove",
      ...base,
      id: serviceActionId(host, app, ps.name, 1, `remove:${c.name}`),
      waitsFor
    })
  }
}

/**
 * Rolling replacement of a service's replicas: each waits for the one `parallelism` places before it
 * (one at a time by default) and pauses `delay` first; with `failure_action: continue` it goes on
 * after a failure, else a failure stops the rest.
 */
const rollingOf = (ps: PreparedService, replicas: ReadonlyArray<ReplicaDecision>, host: string, app: string) => {
  const rolling = replicas.filter((r) => r.decision.do === "recreate" && !r.decision.heal).map((r) => r.replica)
  const p = ps.update.parallelism ?? 1
  const out = new Map<number, { after: Array<string>; strict: boolean; delayMs: number }>()
  if (rolling.length < 2 || p === 0) return out
  rolling.forEach((replica, k) => {
    const before = rolling[k - p]
    if (before === undefined) return
    out.set(replica, {
      after: [serviceActionId(host, app, ps.name, before, "recreate")],
      strict: ps.update.failureAction !== "continue",
      delayMs: ps.update.delayMs ?? 0
    })
  })
  return out
}

const emitHost = (
  ctx: PlanContext,
  prepared: PreparedApp,
  hd: HostDecisions,
  requiresWaits: ReadonlyArray<string>,
  requiresBlocked: string | undefined
): void => {
  const app = prepared.app
  const b = ctx.builder
  for (const sd of hd.services) {
    const ps = sd.prepared
    const mutating = sd.replicas.some((r) => isMutating(r.decision))
    let entry: ReadonlyArray<string> = NONE
    let blockedBy = mutating ? requiresBlocked : undefined
    if (mutating && blockedBy === undefined) {
      const waits = [...requiresWaits]
      const deps = ps.service.dependsOn
      if (deps !== undefined) {
        b.begin()
        for (const dep of Object.keys(deps).sort()) {
          const h = handleOf(ctx, hd.host, app.name, dep)
          if (h === undefined) continue
          const condition = deps[dep]!.condition
          const r =
            condition === "service_started"
              ? h.started()
              : condition === "service_healthy"
                ? h.healthy()
                : h.completed()
          if (r._tag === "Blocked") {
            blockedBy = `depends on ${dep}: ${r.reason}`
            break
          }
          if (r._tag === "After") waits.push(...r.ids)
        }
        if (blockedBy !== undefined) b.rollback()
        else b.commit()
      }
      entry = waits.length > 1 ? [...new Set(waits)] : waits
    }
    scaleDown(ctx, hd.host, app.name, sd)
    if (sd.refresh !== undefined)
      pullImage(ctx, hd.host, app.name, ps.config.image, sd.refresh, ps.config.options?.platform)
    const rolling = rollingOf(ps, sd.replicas, hd.host, app.name)
    const handles = sd.replicas.map((rd) =>
      emitService({
        ctx,
        host: hd.host,
        view: hd.view,
        app,
        prepared: ps,
        replica: rd.replica,
        decision: rd.decision,
        container: rd.container,
        leftovers: rd.replica === 1 ? sd.leftovers : NONE,
        entryWaits: blockedBy === undefined ? entry : NONE,
        blockedBy,
        ...(rolling.has(rd.replica) ? { rolling: rolling.get(rd.replica)! } : {})
      })
    )
    ctx.handles.set(
      hostServiceKey(hd.host, app.name, ps.name),
      handles.length === 0 ? noReplicas(hd.host, app.name, ps.name) : combineHandles(handles, handles[0]!)
    )
  }
  ctx.appOnHost.set(hostAppKey(hd.host, app.name), { specHash: prepared.specHash })
}

/** A service scaled to 0: nothing to wait for. */
const noReplicas = (host: string, app: string, service: string): ServiceHandle => ({
  host,
  app,
  service,
  changed: false,
  started: () => now,
  healthy: () => now,
  completed: () => now,
  ready: () => now
})

export const planApp = (ctx: PlanContext, prepared: PreparedApp): void => {
  const app = prepared.app
  const b = ctx.builder
  const ready: Array<HostDecisions> = []
  for (const host of ctx.placement.get(app.name) ?? []) {
    const unknown = ctx.unknown.get(host)
    const view = ctx.views.get(host)
    if (unknown !== undefined || view === undefined) {
      skipOnHost(ctx, prepared, host, `host ${host} is unknown; left alone`)
      continue
    }
    const external = missingExternal(app, view)
    if (external !== undefined) {
      skipOnHost(ctx, prepared, host, external)
      continue
    }
    ctx.warnings.push(...networkWarnings(app, view))
    const hd = decideHost(ctx, prepared, host, view)
    const exhausted = hd.services.flatMap((s) =>
      s.replicas.flatMap((r) => (r.decision.do === "exhausted" ? [`${s.prepared.name}: ${r.decision.reason}`] : []))
    )[0]
    if (exhausted !== undefined) {
      skipOnHost(ctx, prepared, host, exhausted, true)
      continue
    }
    ready.push(hd)
  }
  b.begin()
  const req = requirements(ctx, app)
  if (req.blocked !== undefined) {
    b.rollback()
    for (const hd of ready) emitHost(ctx, prepared, hd, [], req.blocked)
    return
  }
  // Hooks run when the consumer really starts something (dependencies may still turn a change into
  // a skip), or when the provider was replaced: learn which by emitting once and rolling back.
  let consumerChanges = false
  if (
    (req.hooks.length > 0 || req.waits.length > 0) &&
    ready.some((hd) => hd.services.some((s) => s.replicas.some((r) => isMutating(r.decision))))
  ) {
    const mark = b.actions.length
    b.begin()
    for (const hd of ready) emitHost(ctx, prepared, hd, req.waits, undefined)
    consumerChanges = b.actions.slice(mark).some((a) => a.app === app.name && !passiveKinds.has(a._tag))
    b.rollback()
  }
  const hooks = req.hooks.filter((h) => consumerChanges || h.providerChanged)
  if (!consumerChanges && hooks.length === 0) {
    // Nothing of the consumer starts: it waits for nothing, so the waits on its providers go too.
    b.rollback()
    for (const hd of ready) {
      if (
        hd.services.every(
          (s) =>
            s.replicas.every((r) => r.decision.do === "nothing") &&
            s.leftovers.length === 0 &&
            s.scaledDown.length === 0 &&
            s.refresh === undefined
        )
      ) {
        // Nothing to emit here: readiness is made only if a consumer asks for it.
        ctx.appOnHost.set(hostAppKey(hd.host, app.name), { specHash: prepared.specHash })
        ctx.quiet.set(hostAppKey(hd.host, app.name), () => emitHost(ctx, prepared, hd, [], undefined))
      } else emitHost(ctx, prepared, hd, [], undefined)
    }
    return
  }
  b.commit()
  for (const h of hooks) {
    b.add(consumerChanges ? h.action : { ...h.action, reason: `${h.action.reason} (${h.action.app} was replaced)` })
  }
  for (const hd of ready) emitHost(ctx, prepared, hd, [...req.waits, ...hooks.map((h) => h.action.id)], undefined)
}
