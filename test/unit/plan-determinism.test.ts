/** Rule 8, rendering and the JSON form: same inputs, same bytes. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodePlan, encodePlan } from "../../core/decode.ts"
import { describe as render } from "../../core/describe.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, deployed, desired, mutate, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const apps = [
  app(
    "db",
    { main: svc("moor-fixture/app:1", { mounts: [{ type: "volume", source: "data", target: "/data" }] }) },
    { volumes: { data: {} } }
  ),
  app(
    "api",
    {
      web: svc("moor-fixture/app:2", { ports: [{ target: 8080, published: 18080 }] }),
      job: svc("moor-fixture/app:1", { restart: "no" })
    },
    { requires: [{ app: "db", onStart: { script: "h.sh" } }] }
  ),
  app("web", { front: svc() }, { requires: [{ app: "api" }] }),
  app("lost", { x: svc() }, { requires: [{ app: "nope" }] })
]

describe("rule 8: determinism", () => {
  it("the same inputs give the same plan, byte for byte, whatever the order of apps and containers", () => {
    const obs = mutate(deployed(desired(apps.slice(0, 2)), { images: ["moor-fixture/app:1"] }), "api-web-1", (c) => ({
      ...c,
      state: "exited",
      exitCode: 2
    }))
    const a = render(plan(desired(apps), obs, policy()))
    const reversed = {
      ...obs,
      hosts: obs.hosts.map((h) =>
        h._tag === "Known" ? { ...h, containers: [...h.containers].reverse(), images: [...h.images].reverse() } : h
      )
    }
    const b = render(plan(desired([...apps].reverse()), reversed, policy()))
    expect(b).toBe(a)
    expect(JSON.stringify(encodePlan(plan(desired([...apps].reverse()), reversed, policy())))).toBe(
      JSON.stringify(encodePlan(plan(desired(apps), obs, policy())))
    )
  })
})

describe("describe: plans for people", () => {
  const fresh = observedOf([emptyHost("local", ["moor-fixture/app:1"])])
  it("renders one line per action with terraform-like symbols and reasons", () => {
    const text = render(plan(desired(apps), fresh, policy()))
    expect(text).toContain("  ! skip lost (requires nope: not in spec)")
    expect(text).toContain("  + create db-main-1 (moor-fixture/app:1) (missing)")
    expect(text).toContain("  > start db-main-1 (created)")
    expect(text).toContain("  + pull moor-fixture/app:2 (image not present)")
    expect(text).toContain("  > run hook db:h.sh in db-main-1 for api (on_start hook for api)")
    expect(text).toMatch(/Plan: 4 to create, 0 to replace, 0 to remove, \d+ other steps, 1 skipped\.\n$/)
  })
  it("shows the steps of a replacement and its rollback", () => {
    const d1 = desired([app("shop", { web: svc("moor-fixture/app:1") })])
    const text = render(
      plan(
        desired([app("shop", { web: svc("moor-fixture/app:2") })]),
        deployed(d1, { images: ["moor-fixture/app:1", "moor-fixture/app:2"] }),
        policy()
      )
    )
    expect(text).toContain(
      [
        "  ~ recreate shop-web-1 (image moor-fixture/app:1 -> :2)",
        "      strategy: start-first",
        "      + create shop-web-1-next",
        "      > start shop-web-1-next",
        "      * wait healthy shop-web-1-next (up to 1m)",
        "      - stop shop-web-1",
        "      - remove shop-web-1",
        "      ~ rename shop-web-1-next -> shop-web-1",
        "      on failure: - remove shop-web-1-next"
      ].join("\n")
    )
  })
  it("says so when there is nothing to do", () => {
    const d1 = desired([app("shop", { web: svc() })])
    expect(render(plan(d1, deployed(d1, { images: ["moor-fixture/app:1"] }), policy()))).toMatch(
      /host local: no changes[\s\S]*No changes\.\n$/
    )
  })
  it("the JSON form round-trips through the Plan schema", () => {
    const p = plan(desired(apps), fresh, policy())
    const back = decodePlan(JSON.parse(JSON.stringify(encodePlan(p))))
    expect(Result.isSuccess(back) && back.success).toEqual(p)
  })
})
