/**
 * Properties of the planner over random desired/observed pairs, each run `runs` times (the unit
 * suite: 150, or MOOR_PROPERTY_RUNS; the gauntlet: 10,000).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { describe as render } from "../../core/describe.ts"
import { Label } from "../../core/names.ts"
import { type Action, type ContainerRef, destructiveKinds, passiveKinds, type Plan } from "../../core/model/plan.ts"
import type { Observed } from "../../core/model/observed.ts"
import { plan } from "../../core/plan/plan.ts"
import { selectApps } from "../../core/select.ts"
import { APP_NAMES, desiredArb, JOBS, observedArb, policyArb, SCOPE } from "./arbitraries.ts"
import { applyPlan } from "./reference-engine.ts"

const cases = fc.tuple(desiredArb, policyArb).chain(([d, p]) => observedArb(d).map((o) => ({ d, p, o })))

/** Every container reference of an action, with the step it comes from. */
const refsOf = (a: Action): Array<ContainerRef> => {
  switch (a._tag) {
    case "start":
    case "stop":
    case "remove":
    case "wait-healthy":
    case "wait-completed":
    case "run-hook":
      return [a.container]
    case "recreate":
      return [
        a.current,
        ...a.steps.flatMap((s) => (s._tag === "create" ? [] : [s.container])),
        ...a.rollback.flatMap((s) => (s._tag === "create" ? [] : [s.container]))
      ]
    default:
      return []
  }
}
const createdNames = (a: Action): Array<string> =>
  a._tag === "create"
    ? [a.container.name]
    : a._tag === "recreate"
      ? a.steps.flatMap((s) => (s._tag === "create" ? [s.container.name] : s._tag === "rename" ? [s.to] : []))
      : []

const changes = (p: Plan) => p.actions.filter((a) => !passiveKinds.has(a._tag))

export const planProperties = (runs: number): void => {
  describe(`planner properties (${runs} cases each)`, () => {
    it("no action ever targets a container without this scope's label", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const result = plan(d, o, p)
          for (const host of o.hosts) {
            if (host._tag !== "Known") continue
            const scoped = host.containers.filter((c) => c.labels[Label.scope] === SCOPE)
            const scopedIds = new Set(scoped.map((c) => c.id))
            const scopedNames = new Set(scoped.map((c) => c.name))
            const made = new Set<string>()
            for (const a of result.actions.filter((x) => x.host === host.host)) {
              for (const ref of refsOf(a)) {
                if (ref.id !== undefined) expect(scopedIds.has(ref.id), `${a.id} targets ${ref.id}`).toBe(true)
                else
                  expect(
                    made.has(ref.name) || scopedNames.has(ref.name) || createdNames(a).includes(ref.name),
                    `${a.id} targets ${ref.name}`
                  ).toBe(true)
              }
              for (const n of createdNames(a)) made.add(n)
            }
          }
        }),
        { numRuns: runs }
      )
    })

    it("an unreachable host gets no action but a skip", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const unreachable = new Set(o.hosts.filter((h) => h._tag === "Unreachable").map((h) => h.host))
          const result = plan(d, o, p)
          for (const a of result.actions) if (unreachable.has(a.host)) expect(a._tag).toBe("skip")
          for (const a of result.actions) if (destructiveKinds.has(a._tag)) expect(unreachable.has(a.host)).toBe(false)
        }),
        { numRuns: runs }
      )
    })

    it("volumes are never removed unless the policy asks for it", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const removed = plan(d, o, p).actions.filter((a) => a._tag === "remove-volume")
          if (!p.removeVolumes) expect(removed).toEqual([])
        }),
        { numRuns: runs }
      )
    })

    it("dependency order is respected: waits point backwards, providers act before their consumers", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const result = plan(d, o, p)
          const index = new Map(result.actions.map((a, i) => [a.id, i]))
          expect(index.size).toBe(result.actions.length)
          result.actions.forEach((a, i) => {
            for (const w of a.waitsFor) expect(index.get(w), `${a.id} waits for ${w}`).toBeLessThan(i)
          })
          const starts = (app: string) =>
            result.actions.flatMap((a, i) =>
              a.app === app && (a._tag === "create" || a._tag === "start" || a._tag === "recreate") ? [i] : []
            )
          for (const app of d.apps) {
            for (const req of app.requires ?? []) {
              const consumer = starts(app.name)
              const provider = starts(req.app)
              if (consumer.length > 0 && provider.length > 0)
                expect(Math.min(...consumer)).toBeGreaterThan(Math.max(...provider))
            }
          }
        }),
        { numRuns: runs }
      )
    })

    it("converges: after the plan is applied, planning again changes nothing, and applying that changes nothing", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const first = plan(d, o, p)
          const after = applyPlan(o, first, { jobs: JOBS })
          const second = plan(d, after, p)
          expect(changes(second).map((a) => `${a.id}: ${a.reason}`)).toEqual([])
          const again: Observed = applyPlan(after, second, { jobs: JOBS })
          expect(again).toEqual(after)
        }),
        { numRuns: runs }
      )
    })

    it("taking one app down (out of the spec, its plan selected) acts on that app alone", () => {
      fc.assert(
        fc.property(cases, fc.constantFrom(...APP_NAMES), ({ d, p, o }, app) => {
          const rest = {
            ...d,
            apps: d.apps.filter((a) => a.name !== app),
            invalid: d.invalid.filter((a) => a.name !== app)
          }
          const down = selectApps(plan(rest, o, { ...p, prune: true }), [app])
          for (const a of down.actions) expect(a.app, a.id).toBe(app)
        }),
        { numRuns: runs }
      )
    })

    it("while part of the spec cannot be read, nothing of an app not in the spec is stopped, replaced or removed", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const inSpec = new Set(d.apps.map((a) => a.name))
          const result = plan({ ...d, unreadable: ["x/compose.yaml: permission denied"] }, o, p)
          for (const a of result.actions.filter((x) => destructiveKinds.has(x._tag)))
            expect(inSpec.has(a.app), `${a.id}: ${a.reason}`).toBe(true)
        }),
        { numRuns: runs }
      )
    })

    it("is total and deterministic: never fails, same inputs give the same bytes whatever their order", () => {
      fc.assert(
        fc.property(cases, ({ d, p, o }) => {
          const result = plan(d, o, p)
          expect(result.warnings.filter((w) => w.startsWith("moor could not plan"))).toEqual([])
          const shuffled: Observed = {
            ...o,
            hosts: [...o.hosts]
              .reverse()
              .map((h) => (h._tag === "Known" ? { ...h, containers: [...h.containers].reverse() } : h))
          }
          expect(render(plan({ ...d, apps: [...d.apps].reverse() }, shuffled, p))).toBe(render(result))
        }),
        { numRuns: runs }
      )
    })
  })
}
