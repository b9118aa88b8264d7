/**
 * Across apps: placement, `requires` (missing providers, cycles, invalid providers), host port
 * clashes, and the order apps are planned in: providers before consumers, alphabetical within a tier.
 */
import { findCycle } from "../decode.ts"
import { DEFAULT_HOST, type App, type DesiredState } from "../model/desired.ts"

export interface AppAnalysis {
  /** Valid apps in planning order. */
  readonly ordered: ReadonlyArray<App>
  /** App name -> why it is not planned at all (its containers are left alone). */
  readonly blocked: ReadonlyMap<string, string>
  /** App name -> the hosts it is placed on. */
  readonly placement: ReadonlyMap<string, ReadonlyArray<string>>
  /** App name -> tier (0 = requires nothing). */
  readonly tier: ReadonlyMap<string, number>
}

export const defaultHostOf = (desired: DesiredState): string =>
  desired.hosts.find((h) => h.name === DEFAULT_HOST)?.name ?? desired.hosts[0]?.name ?? DEFAULT_HOST

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The hosts each app (valid or not) is placed on. */
export const placementOf = (desired: DesiredState): ReadonlyMap<string, ReadonlyArray<string>> =>
  analyzeApps(desired).placement

export const analyzeApps = (input: DesiredState): AppAnalysis => {
  // Never rely on the caller's order: every decision below goes by name.
  const desired: DesiredState = {
    ...input,
    apps: [...input.apps].sort((a, b) => byName(a.name, b.name)),
    invalid: [...input.invalid].sort((a, b) => byName(a.name, b.name))
  }
  const defaultHost = defaultHostOf(desired)
  const apps = new Map(desired.apps.map((a) => [a.name, a]))
  const invalid = new Map(desired.invalid.map((a) => [a.name, a.message]))
  const blocked = new Map<string, string>()
  const placement = new Map<string, ReadonlyArray<string>>()
  for (const app of desired.apps) {
    placement.set(
      app.name,
      [...new Set(app.hosts === undefined || app.hosts.length === 0 ? [defaultHost] : app.hosts)].sort(byName)
    )
  }
  for (const bad of desired.invalid) {
    placement.set(
      bad.name,
      [...new Set(bad.hosts === undefined || bad.hosts.length === 0 ? [defaultHost] : bad.hosts)].sort(byName)
    )
  }

  // Hooks must name a service the provider has.
  for (const app of desired.apps) {
    for (const req of app.requires ?? []) {
      const provider = apps.get(req.app)
      const service = req.onStart?.service
      if (provider !== undefined && service !== undefined && provider.services[service] === undefined) {
        blocked.set(
          app.name,
          `requires ${req.app}: its on_start hook names service ${service}, which ${req.app} does not have`
        )
      }
    }
  }

  // A host port published twice on one host (two apps, or two services of one app): the app that
  // comes later in name order is left out.
  const portOwner = new Map<string, string>()
  for (const app of desired.apps) {
    const clashes: Array<string> = []
    const mine = new Map<string, string>()
    for (const host of placement.get(app.name) ?? []) {
      for (const name of Object.keys(app.services).sort()) {
        for (const port of app.services[name]?.ports ?? []) {
          if (port.published === undefined) continue
          // A range of host ports (the engine takes a free one): each port of it counts.
          for (let published = port.published; published <= (port.publishedEnd ?? port.published); published++) {
            const key = `${host}|${port.hostIp ?? ""}|${published}/${port.protocol ?? "tcp"}`
            const owner = portOwner.get(key) ?? mine.get(key)
            const self = `${app.name}/${name}`
            if (owner !== undefined && owner !== self) {
              clashes.push(
                `host port ${published}/${port.protocol ?? "tcp"} on host ${host} is already published by ${owner}`
              )
            } else mine.set(key, self)
          }
        }
      }
    }
    if (clashes.length > 0) blocked.set(app.name, clashes.join("; "))
    else for (const [key, owner] of mine) portOwner.set(key, owner)
  }

  // requires: cycles, then missing/invalid/blocked providers, transitively.
  const names = desired.apps.map((a) => a.name)
  const providersOf = (name: string) => (apps.get(name)?.requires ?? []).map((r) => r.app)
  let remaining = names.filter((n) => !blocked.has(n))
  for (;;) {
    const cycle = findCycle(remaining, providersOf)
    if (cycle === undefined) break
    const path = cycle.join(" -> ")
    for (const member of new Set(cycle)) blocked.set(member, `requires cycle: ${path}`)
    remaining = remaining.filter((n) => !blocked.has(n))
  }
  let changed = true
  while (changed) {
    changed = false
    for (const app of desired.apps) {
      if (blocked.has(app.name)) continue
      for (const req of app.requires ?? []) {
        const reason = invalid.has(req.app)
          ? `requires ${req.app}: ${req.app} is invalid`
          : !apps.has(req.app)
            ? `requires ${req.app}: not in spec`
            : blocked.has(req.app)
              ? `requires ${req.app}: ${req.app} is not planned (${blocked.get(req.app)})`
              : undefined
        if (reason !== undefined) {
          blocked.set(app.name, reason)
          changed = true
          break
        }
      }
    }
  }

  // Tiers: the longest chain of providers below an app.
  const tier = new Map<string, number>()
  const tierOf = (name: string): number => {
    const known = tier.get(name)
    if (known !== undefined) return known
    tier.set(name, 0)
    const t = Math.max(-1, ...providersOf(name).map(tierOf)) + 1
    tier.set(name, t)
    return t
  }
  const ordered = desired.apps
    .filter((a) => !blocked.has(a.name))
    .sort((a, b) => tierOf(a.name) - tierOf(b.name) || byName(a.name, b.name))
  return { ordered, blocked, placement, tier }
}
