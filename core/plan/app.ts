/**
 * One desired app on all its hosts: resource checks, decisions per service, `requires` and
 * `on_start` hooks, then actions per host in `depends_on` order.
 */
import { engineCannotExpress } from "../engine-features.ts"
import { containerName, Label, nextName, oldName } from "../names.ts"
import type { App } from "../model/desired.ts"
import { type Action, passiveKinds } from "../model/plan.ts"
import type { ObservedContainer } from "../model/observed.ts"
import { handleOf, hostAppKey, hostServiceKey, type PlanContext } from "./context.ts"
import { type Decision, decide } from "./decide.ts"
import { emitService, isMutating } from "./emit.ts"
import type { PreparedApp, PreparedService } from "./prepare.ts"
import { makeHandle, type Ready } from "./ready.ts"
import type { HostView } from "./view.ts"

interface ServiceDecision {
  readonly prepared: PreparedService
  readonly decision: Decision
  readonly container: ObservedContainer | undefined
  readonly leftovers: ReadonlyArray<ObservedContainer>
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
    const canonical = ps.config.name
    const all = view.byService.get(ps.key) ?? NONE
    const only = all.length === 1 ? all[0] : undefined
    const container = only !== undefined && only.name === canonical ? only : all.find((c) => c.name === canonical)
    const leftovers = only !== undefined && only === container ? NONE : all.filter((c) => c !== container)
    if (
      container !== undefined &&
      leftovers.length === 0 &&
      isSteady(container, ps.specHash, ctx.hashAlgorithms.current, view.imageIdByTag.get(ps.config.image))
    ) {
      return { prepared: ps, container, leftovers, decision: NOTHING }
    }
    const decision = decide({
      container,
      hashInput: ps.hashInput,
      fields: ps.fields,
      specHash: ps.specHash,
      hashAlgorithms: ctx.hashAlgorithms,
      desiredImageId: view.imageIdByTag.get(ps.config.image),
      oneShot: ps.oneShot,
      restarts: ctx.restarts.size === 0 ? NONE : (ctx.restarts.get(hostServiceKey(host, app.name, ps.name)) ?? NONE),
      failedRollout:
        ctx.failedRollouts.size === 0 ? undefined : ctx.failedRollouts.get(hostServiceKey(host, app.name, ps.name)),
      policy: ctx.policy,
      now: ctx.now,
      warn
    })
    return {
      prepared: ps,
      container,
      leftovers,
      decision:
        decision.do === "nothing" ? decision : guardNames(ctx.scope, view, canonical, guardEngine(view, ps, decision))
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
        container: containerName(app.name, ps.name),
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
    if (r._tag === "After") waits.push(r.id)
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
          waitsFor: hookReady?._tag === "After" ? [hookReady.id] : [],
          container: { name: containerName(req.app, service) },
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
    const mutating = isMutating(sd.decision)
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
          if (r._tag === "After") waits.push(r.id)
        }
        if (blockedBy !== undefined) b.rollback()
        else b.commit()
      }
      entry = waits.length > 1 ? [...new Set(waits)] : waits
    }
    const handle = emitService({
      ctx,
      host: hd.host,
      view: hd.view,
      app,
      prepared: ps,
      decision: sd.decision,
      container: sd.container,
      leftovers: sd.leftovers,
      entryWaits: blockedBy === undefined ? entry : NONE,
      blockedBy
    })
    ctx.handles.set(hostServiceKey(hd.host, app.name, ps.name), handle)
  }
  ctx.appOnHost.set(hostAppKey(hd.host, app.name), { specHash: prepared.specHash })
}

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
    const hd = decideHost(ctx, prepared, host, view)
    const exhausted = hd.services.find((s) => s.decision.do === "exhausted")
    if (exhausted !== undefined && exhausted.decision.do === "exhausted") {
      skipOnHost(ctx, prepared, host, `${exhausted.prepared.name}: ${exhausted.decision.reason}`, true)
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
    ready.some((hd) => hd.services.some((s) => isMutating(s.decision)))
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
      if (hd.services.every((s) => s.decision.do === "nothing" && s.leftovers.length === 0)) {
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
