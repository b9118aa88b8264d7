/**
 * Rule 5, per known host: this scope's containers whose app or service is no longer desired there
 * are removed (policy `prune`); an app's networks follow its containers; named volumes only when the
 * policy says so. Apps left alone (invalid, blocked) keep everything. While part of the spec could
 * not be read, an app not in the spec may be declared there: it keeps everything too. Nothing
 * without this scope's label is seen.
 */
import { Label } from "../names.ts"
import type { App } from "../model/desired.ts"
import type { ObservedContainer } from "../model/observed.ts"
import { handleOf, hostAppKey, type PlanContext } from "./context.ts"
import type { HostView } from "./view.ts"

/** Engine names of the networks and volumes desired apps declare on a host. */
const declaredNames = (apps: ReadonlyArray<App>): { networks: Set<string>; volumes: Set<string> } => {
  const networks = new Set<string>()
  const volumes = new Set<string>()
  for (const app of apps) {
    networks.add(`${app.name}_default`)
    for (const [key, n] of Object.entries(app.networks ?? {})) networks.add(n.name ?? `${app.name}_${key}`)
    for (const [key, v] of Object.entries(app.volumes ?? {})) volumes.add(v.name ?? `${app.name}_${key}`)
  }
  return { networks, volumes }
}

/** Where the app runs instead, and what its removal here must wait for (it comes up there first). */
const movedTo = (
  ctx: PlanContext,
  app: App,
  fromHost: string
): { waits: Array<string>; blocked?: string; hosts: Array<string> } => {
  const hosts = [...(ctx.placement.get(app.name) ?? [])]
  const waits: Array<string> = []
  const reasons: Array<string> = []
  let ready = 0
  for (const host of hosts) {
    if (host === fromHost) continue
    const readies = Object.keys(app.services).map((s) => handleOf(ctx, host, app.name, s)?.ready())
    const bad = readies.find((r) => r === undefined || r._tag === "Blocked")
    if (bad !== undefined) {
      reasons.push(`on host ${host}: ${bad?._tag === "Blocked" ? bad.reason : "not planned"}`)
      continue
    }
    ready++
    for (const r of readies) if (r?._tag === "After") waits.push(...r.ids)
  }
  return ready > 0 ? { waits, hosts } : { waits, hosts, blocked: reasons.join("; ") }
}

/** Why an app that is not in the spec is kept while part of the spec could not be read. */
export const unreadableReason = (app: string, unreadable: ReadonlyArray<string>): string => {
  const first = unreadable[0] ?? ""
  const more = unreadable.length > 1 ? ` and ${unreadable.length - 1} more` : ""
  return `app ${app} is not in the spec as read, but part of the spec could not be read (${first}${more}) and may declare it; kept until it can be read`
}

export const planOrphans = (ctx: PlanContext, view: HostView, leftAlone: ReadonlySet<string>): void => {
  const { builder: b, policy, scope } = ctx
  const host = view.host
  const placedHere = [...ctx.apps.values()].filter((a) => ctx.placement.get(a.name)?.includes(host) === true)
  const unsure = ctx.unreadable.length > 0
  /** App -> the removals of its containers on this host (what its networks and volumes wait for). */
  const removals = new Map<string, Array<string>>()
  // Apps moved away whose containers stay here until they are ready elsewhere: their networks and
  // volumes stay with them.
  const kept = new Set<string>()
  /** A container left where it is, with why; its app keeps its networks and volumes here too. */
  const keep = (c: ObservedContainer, reason: string) => {
    const app = c.labels[Label.app]!
    const service = c.labels[Label.service]!
    b.add({ _tag: "skip", id: `${host}/${app}/${service}:keep:${c.name}`, host, app, service, reason, waitsFor: [] })
    kept.add(app)
  }
  for (const c of view.containers) {
    const appName = c.labels[Label.app]!
    const service = c.labels[Label.service]!
    if (leftAlone.has(appName)) continue
    const app = ctx.apps.get(appName)
    const placed = ctx.placement.get(appName)?.includes(host) === true
    if (app !== undefined && placed && app.services[service] !== undefined) continue
    let reason: string
    let waits: Array<string> = []
    if (app === undefined) reason = `orphan: app ${appName} is not in the spec`
    else if (placed) reason = `orphan: service ${service} is not in app ${appName}`
    else {
      const moved = movedTo(ctx, app, host)
      if (moved.blocked !== undefined) {
        keep(
          c,
          `app ${appName} moved to ${moved.hosts.join(", ")}, but is not ready there (${moved.blocked}); kept here until it is`
        )
        continue
      }
      reason = `app ${appName} moved to ${moved.hosts.join(", ")}`
      waits = moved.waits
    }
    if (!policy.prune) {
      ctx.warnings.push(`container ${c.name} on host ${host} is kept (${reason}; prune is off)`)
      continue
    }
    if (app === undefined && unsure) {
      const why = unreadableReason(appName, ctx.unreadable)
      keep(c, why)
      ctx.appOnHost.set(hostAppKey(host, appName), { skipped: why, specHash: "" })
      ctx.warnings.push(
        `part of the spec could not be read (${ctx.unreadable.join("; ")}): apps not in the spec are kept, not removed, until it can be read`
      )
      continue
    }
    const mine = removals.get(appName) ?? []
    mine.push(...removeContainer(ctx, host, appName, service, c, reason, waits))
    removals.set(appName, mine)
  }

  const declared = declaredNames(placedHere)
  const keptByApp = (labels: Readonly<Record<string, string>>) => {
    const owner = labels[Label.app]
    if (unsure && (owner === undefined || !ctx.apps.has(owner))) return true
    return owner !== undefined && (leftAlone.has(owner) || kept.has(owner))
  }
  /** A network or volume is removed after its app's containers; one without an app, after every removal. */
  const removalsFor = (labels: Readonly<Record<string, string>>): Array<string> => {
    const owner = labels[Label.app]
    return owner === undefined ? [...removals.values()].flat() : [...(removals.get(owner) ?? [])]
  }
  for (const [name, n] of [...view.networks].sort(([a], [z]) => (a < z ? -1 : 1))) {
    if (n.labels[Label.scope] !== scope || declared.networks.has(name) || keptByApp(n.labels)) continue
    if (!policy.prune) continue
    b.add({
      _tag: "remove-network",
      id: `${host}:remove-network:${name}`,
      host,
      app: n.labels[Label.app] ?? "",
      reason: "orphan: no app in the spec uses it",
      waitsFor: removalsFor(n.labels),
      network: name
    })
  }
  for (const [name, v] of [...view.volumes].sort(([a], [z]) => (a < z ? -1 : 1))) {
    if (v.labels[Label.scope] !== scope || declared.volumes.has(name) || keptByApp(v.labels)) continue
    if (!policy.removeVolumes) {
      ctx.warnings.push(
        `volume ${name} on host ${host} is no longer used by the spec; kept (volumes are removed only when the policy asks for it)`
      )
      continue
    }
    b.add({
      _tag: "remove-volume",
      id: `${host}:remove-volume:${name}`,
      host,
      app: v.labels[Label.app] ?? "",
      reason: "no app in the spec uses it, and the policy removes unused volumes",
      waitsFor: removalsFor(v.labels),
      volume: name
    })
  }
}

const removeContainer = (
  ctx: PlanContext,
  host: string,
  app: string,
  service: string,
  c: ObservedContainer,
  reason: string,
  waits: ReadonlyArray<string>
): Array<string> => {
  const base = { host, app, service, reason }
  const ref = { name: c.name, id: c.id }
  let waitsFor = [...waits]
  if (c.state === "running" || c.state === "restarting" || c.state === "paused") {
    const stop = ctx.builder.add({
      _tag: "stop",
      ...base,
      id: `${host}/${app}/${service}:stop:${c.name}`,
      waitsFor,
      container: ref
    })
    waitsFor = [stop.id]
  }
  const remove = ctx.builder.add({
    _tag: "remove",
    ...base,
    id: `${host}/${app}/${service}:remove:${c.name}`,
    waitsFor,
    container: ref
  })
  return [remove.id]
}
