/**
 * plan(desired, observed, policy) -> Plan. Pure, total (never throws), deterministic.
 */
import { defaultHashAlgorithms, type HashAlgorithms } from "../container-spec.ts"
import { Label } from "../names.ts"
import type { DesiredState } from "../model/desired.ts"
import type { Observed, ObservedContainer, RestartRecord } from "../model/observed.ts"
import { type Action, type AppSummary, type HostSummary, passiveKinds, type Plan } from "../model/plan.ts"
import type { Policy } from "../model/policy.ts"
import { planApp } from "./app.ts"
import { analyzeApps } from "./apps.ts"
import { ActionBuilder } from "./builder.ts"
import { hostAppKey, hostServiceKey, type PlanContext } from "./context.ts"
import { planOrphans } from "./orphans.ts"
import { type PreparedApp, prepareApp } from "./prepare.ts"
import { aggregateState, describeContainer, type ServiceCondition, serviceCondition } from "./state.ts"
import { type HostView, makeHostView } from "./view.ts"

export interface PlanOptions {
  /** The spec hash algorithms this moor knows (tests inject older versions). */
  readonly hashAlgorithms?: HashAlgorithms
}

const findCanonical = (
  list: ReadonlyArray<ObservedContainer> | undefined,
  name: string
): ObservedContainer | undefined => {
  if (list === undefined) return undefined
  for (const c of list) if (c.name === name) return c
  return undefined
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const lastPulls = (observed: Observed): Map<string, number> => {
  const out = new Map<string, number>()
  for (const p of observed.pulls ?? []) {
    const key = `${p.host}|${p.image}`
    if ((out.get(key) ?? -Infinity) < p.at) out.set(key, p.at)
  }
  return out
}

const planUnsafe = (desired: DesiredState, observed: Observed, policy: Policy, options: PlanOptions): Plan => {
  const analysis = analyzeApps(desired)
  const views = new Map<string, HostView>()
  const unknown = new Map<string, string>()
  for (const h of observed.hosts) {
    if (h._tag === "Unreachable") {
      unknown.set(h.host, h.reason)
      continue
    }
    const view = makeHostView(h, desired.scope)
    const claimed = claimedElsewhere(view, desired)
    if (claimed === undefined) views.set(h.host, view)
    else unknown.set(h.host, claimed)
  }
  const restarts = new Map<string, Array<RestartRecord>>()
  for (const r of observed.restarts ?? []) {
    const key = hostServiceKey(r.host, r.app, r.service)
    const list = restarts.get(key)
    if (list === undefined) restarts.set(key, [r])
    else list.push(r)
  }
  const ctx: PlanContext = {
    scope: desired.scope,
    originLabels: desired.origin === undefined ? {} : { [Label.spec]: desired.origin.path },
    unreadable: desired.unreadable,
    policy,
    now: observed.now,
    hashAlgorithms: options.hashAlgorithms ?? defaultHashAlgorithms,
    builder: new ActionBuilder(),
    apps: new Map(analysis.ordered.map((a) => [a.name, a])),
    placement: analysis.placement,
    views,
    unknown,
    restarts,
    pulls: lastPulls(observed),
    passStartedAt: observed.passStartedAt,
    failedRollouts: new Map((observed.failedRollouts ?? []).map((f) => [hostServiceKey(f.host, f.app, f.service), f])),
    handles: new Map(),
    quiet: new Map(),
    appOnHost: new Map(),
    warnings: []
  }

  // Apps left alone: invalid ones and those whose requirements cannot be met.
  const leftAlone = new Map<string, string>([
    ...desired.invalid.map((a) => [a.name, a.message] as const),
    ...analysis.blocked
  ])
  for (const [name, reason] of [...leftAlone].sort(([a], [b]) => byName(a, b))) {
    for (const host of analysis.placement.get(name) ?? []) {
      ctx.builder.add({ _tag: "skip", id: `${host}/${name}:skip`, host, app: name, reason, waitsFor: [] })
      ctx.appOnHost.set(hostAppKey(host, name), { skipped: reason, specHash: "" })
    }
  }

  const prepared = new Map<string, PreparedApp>()
  for (const app of analysis.ordered) {
    const p = prepareApp(app, policy, ctx.hashAlgorithms)
    prepared.set(app.name, p)
    planApp(ctx, p)
  }
  for (const view of [...views.values()].sort((a, b) => byName(a.host, b.host))) {
    planOrphans(ctx, view, new Set(leftAlone.keys()))
  }

  const actions = ctx.builder.actions
  const hostNames = [...new Set([...desired.hosts.map((h) => h.name), ...observed.hosts.map((h) => h.host)])].sort(
    byName
  )
  const hosts: Array<HostSummary> = hostNames.map((host) => {
    const reason = unknown.get(host) ?? (views.has(host) ? undefined : "not observed")
    return reason === undefined ? { host, status: "known" } : { host, status: "unknown", reason }
  })
  return {
    scope: desired.scope,
    actions,
    apps: summarize(ctx, prepared, leftAlone, actions),
    hosts,
    warnings: [...new Set(ctx.warnings)]
  }
}

const summarize = (
  ctx: PlanContext,
  prepared: ReadonlyMap<string, PreparedApp>,
  leftAlone: ReadonlyMap<string, string>,
  actions: ReadonlyArray<Action>
): Array<AppSummary> => {
  const changes = new Map<string, number>()
  for (const a of actions) {
    if (passiveKinds.has(a._tag)) continue
    const key = hostAppKey(a.host, a.app)
    changes.set(key, (changes.get(key) ?? 0) + 1)
  }
  const out: Array<AppSummary> = []
  const seen = new Set<string>()
  const push = (host: string, app: string, make: () => Omit<AppSummary, "host" | "app" | "changes">) => {
    const key = hostAppKey(host, app)
    if (seen.has(key)) return
    seen.add(key)
    out.push({ host, app, changes: changes.get(key) ?? 0, ...make() })
  }
  // Desired apps (planned or left alone) on each of their hosts.
  for (const [app, hosts] of ctx.placement) {
    for (const host of hosts) {
      const view = ctx.views.get(host)
      const outcome = ctx.appOnHost.get(hostAppKey(host, app))
      const p = prepared.get(app)
      push(host, app, () => {
        const skipped = outcome?.skipped ?? leftAlone.get(app)
        const services: Array<AppSummary["services"][number]> = []
        const conditions: Array<ServiceCondition> = []
        if (view !== undefined && p !== undefined) {
          for (const s of p.services) {
            if (s.service.hosts !== undefined && !s.service.hosts.includes(host)) continue
            for (const name of s.names) {
              const c = findCanonical(view.byService.get(s.key), name)
              conditions.push(serviceCondition(c, s.oneShot))
              services.push(
                c === undefined
                  ? { service: s.name, state: "missing", ...(s.replicas === 1 ? {} : { container: name }) }
                  : { service: s.name, state: describeContainer(c, s.oneShot), container: c.name }
              )
            }
          }
        } else if (view !== undefined) {
          for (const c of view.containers) {
            if (c.labels[Label.app] !== app) continue
            conditions.push(serviceCondition(c, false))
            services.push({ service: c.labels[Label.service]!, state: describeContainer(c, false), container: c.name })
          }
        }
        const state =
          view === undefined
            ? "unknown"
            : outcome?.exhausted === true
              ? "failed"
              : aggregateState(conditions, p !== undefined || leftAlone.has(app))
        return { state, specHash: p?.specHash ?? "", ...(skipped === undefined ? {} : { skipped }), services }
      })
    }
  }
  // Apps observed but no longer desired on a host.
  for (const view of ctx.views.values()) {
    for (const app of view.apps) {
      push(view.host, app, () => {
        const containers = view.containers.filter((c) => c.labels[Label.app] === app)
        const skipped = ctx.appOnHost.get(hostAppKey(view.host, app))?.skipped
        return {
          ...(skipped === undefined ? {} : { skipped }),
          state: aggregateState(
            containers.map((c) => serviceCondition(c, false)),
            false
          ),
          specHash: "",
          services: containers.map((c) => ({
            service: c.labels[Label.service]!,
            state: describeContainer(c, false),
            container: c.name
          }))
        }
      })
    }
  }
  return out.sort((a, b) => byName(a.host, b.host) || byName(a.app, b.app))
}

/**
 * When the scope is only the spec folder's name, a host holding that scope's containers, networks
 * or volumes made from a spec at another path belongs to that other spec (two folders of the same
 * name): the reason to leave the host alone. Objects without the label (made before moor recorded
 * it) are taken as this spec's.
 */
const claimedElsewhere = (view: HostView, desired: DesiredState): string | undefined => {
  const origin = desired.origin
  if (origin === undefined || !origin.scopeFromFolder) return undefined
  const objects = [
    ...view.containers.map((c) => ({ what: `container ${c.name}`, labels: c.labels })),
    ...[...view.networks.values()]
      .filter((n) => n.labels[Label.scope] === desired.scope)
      .map((n) => ({ what: `network ${n.name}`, labels: n.labels })),
    ...[...view.volumes.values()]
      .filter((v) => v.labels[Label.scope] === desired.scope)
      .map((v) => ({ what: `volume ${v.name}`, labels: v.labels }))
  ]
  const other = objects.find((o) => o.labels[Label.spec] !== undefined && o.labels[Label.spec] !== origin.path)
  if (other === undefined) return undefined
  return `scope ${desired.scope} is another spec's here: ${other.what} was made from the spec at ${other.labels[Label.spec]}, and this spec (${origin.path}) takes the same scope from its folder's name; set scope: in its moor.yaml (a name of its own, or ${desired.scope} if it is that spec, moved)`
}

/**
 * The plan that brings the observed hosts to the desired state. Total: should planning itself fail
 * (a bug), the result is an empty plan with a warning, never an exception and never a change.
 */
export const plan = (desired: DesiredState, observed: Observed, policy: Policy, options: PlanOptions = {}): Plan => {
  try {
    return planUnsafe(desired, observed, policy, options)
  } catch (error) {
    return {
      scope: desired.scope,
      actions: [],
      apps: [],
      hosts: [],
      warnings: [
        `moor could not plan (${error instanceof Error ? error.message : String(error)}); nothing will be changed`
      ]
    }
  }
}
