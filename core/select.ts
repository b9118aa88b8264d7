/**
 * A plan restricted to some apps: their actions, and every action those wait for (a provider's
 * start, a shared pull). Orphans of other apps, and everything else, are left out.
 */
import type { Plan } from "./model/plan.ts"

export const selectApps = (plan: Plan, apps: ReadonlyArray<string>): Plan => {
  const wanted = new Set(apps)
  const byId = new Map(plan.actions.map((a) => [a.id, a]))
  const keep = new Set<string>()
  const visit = (id: string) => {
    if (keep.has(id)) return
    const a = byId.get(id)
    if (a === undefined) return
    keep.add(id)
    for (const w of a.waitsFor) visit(w)
  }
  for (const a of plan.actions) {
    if (wanted.has(a.app) || (a._tag === "run-hook" && wanted.has(a.consumer.app))) visit(a.id)
  }
  return {
    ...plan,
    actions: plan.actions.filter((a) => keep.has(a.id)),
    apps: plan.apps.filter((a) => wanted.has(a.app))
  }
}
