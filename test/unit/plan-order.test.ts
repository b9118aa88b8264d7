/** Rules 3 and 4: ordering across and inside apps; what a missing provider, a cycle or a failed hook blocks. */
import { describe, expect, it } from "vitest"
import { plan } from "../../core/plan/plan.ts"
import { app, changing, deployed, desired, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { applyPlan, emptyHost } from "../support/reference-engine.ts"

const images = ["moor-fixture/app:1"]
const fresh = observedOf([emptyHost("local", images)])
const appOrder = (p: ReturnType<typeof plan>) => [...new Set(changing(p).map((a) => a.app))]

describe("rule 3: ordering", () => {
  it("apps are planned providers first, alphabetical within a tier", () => {
    const d = desired([
      app("zeta", { s: svc() }),
      app("web", { s: svc() }, { requires: [{ app: "api" }] }),
      app("api", { s: svc() }, { requires: [{ app: "db" }, { app: "cache" }] }),
      app("db", { s: svc() }),
      app("cache", { s: svc() }),
      app("admin", { s: svc() }, { requires: [{ app: "db" }] })
    ])
    expect(appOrder(plan(d, fresh, policy()))).toEqual(["cache", "db", "zeta", "admin", "api", "web"])
  })

  it("services inside an app follow depends_on, and dependents wait for their conditions", () => {
    const d = desired([
      app("shop", {
        web: svc("moor-fixture/app:1", { dependsOn: { api: { condition: "service_healthy" } } }),
        api: svc("moor-fixture/app:1", { dependsOn: { db: { condition: "service_started" } } }),
        db: svc()
      })
    ])
    const p = plan(d, fresh, policy())
    const ids = p.actions.map((a) => a.id)
    expect(ids.indexOf("local/shop/db:start")).toBeLessThan(ids.indexOf("local/shop/api:create"))
    expect(p.actions.find((a) => a.id === "local/shop/api:create")?.waitsFor).toContain("local/shop/db:start")
    expect(p.actions.find((a) => a.id === "local/shop/web:create")?.waitsFor).toContain("local/shop/api:wait-healthy")
  })

  it("every action comes after the actions it waits for", () => {
    const d = desired([
      app("db", { main: svc() }),
      app(
        "api",
        { a: svc(), b: svc("moor-fixture/app:1", { dependsOn: { a: { condition: "service_healthy" } } }) },
        { requires: [{ app: "db", onStart: { script: "x.sh" } }] }
      )
    ])
    const p = plan(d, observedOf([emptyHost("local")]), policy())
    const seen = new Set<string>()
    for (const a of p.actions) {
      for (const w of a.waitsFor) expect(seen.has(w), `${a.id} waits for ${w}`).toBe(true)
      seen.add(a.id)
    }
  })

  it("a consumer waits for its provider to be healthy and for its on_start hook", () => {
    const d = desired([
      app("db", { main: svc() }),
      app(
        "api",
        { web: svc() },
        { version: "7", requires: [{ app: "db", onStart: { script: "hooks/add-user.sh", content: "touch x" } }] }
      )
    ])
    const p = plan(d, fresh, policy())
    const hook = p.actions.find((a) => a._tag === "run-hook")
    expect(hook?._tag === "run-hook" && hook).toMatchObject({
      host: "local",
      app: "db",
      container: { name: "db-main-1" },
      env: { MOOR_CONSUMER_APP: "api", MOOR_CONSUMER_VERSION: "7" },
      timeoutMs: 30_000,
      waitsFor: ["local/db/main:wait-healthy"]
    })
    expect(p.actions.find((a) => a.id === "local/api/web:create")?.waitsFor).toEqual(
      expect.arrayContaining(["local/db/main:wait-healthy", hook!.id])
    )
  })

  it("a hook does not run again once the consumer runs, unless the provider is replaced", () => {
    const d = desired([
      app("db", { main: svc() }),
      app("api", { web: svc() }, { requires: [{ app: "db", onStart: { script: "h.sh" } }] })
    ])
    const obs = deployed(d, { images })
    expect(plan(d, obs, policy()).actions.filter((a) => a._tag === "run-hook")).toEqual([])
    const d2 = desired([
      app("db", { main: svc("moor-fixture/app:1", { environment: { V: "2" } }) }),
      app("api", { web: svc() }, { requires: [{ app: "db", onStart: { script: "h.sh" } }] })
    ])
    const p = plan(d2, obs, policy())
    expect(p.actions.find((a) => a._tag === "run-hook")?.reason).toBe("on_start hook for api (db was replaced)")
    expect(changing(p).filter((a) => a.app === "api")).toEqual([])
  })

  it("a consumer whose provider is not in the spec is skipped with the provider's name; everything else proceeds", () => {
    const d = desired([app("web", { s: svc() }, { requires: [{ app: "db" }] }), app("other", { s: svc() })])
    const p = plan(d, fresh, policy())
    expect(p.actions.find((a) => a.app === "web")).toMatchObject({ _tag: "skip", reason: "requires db: not in spec" })
    expect(changing(p).map((a) => a.app)).toEqual(["other", "other", "other"])
  })

  it("apps on a requires cycle are skipped with the cycle path, and their consumers too; the others proceed", () => {
    const d = desired([
      app("a", { s: svc() }, { requires: [{ app: "b" }] }),
      app("b", { s: svc() }, { requires: [{ app: "a" }] }),
      app("c", { s: svc() }, { requires: [{ app: "a" }] }),
      app("d", { s: svc() })
    ])
    const p = plan(d, fresh, policy())
    const reasons = Object.fromEntries(p.actions.filter((x) => x._tag === "skip").map((x) => [x.app, x.reason]))
    expect(reasons.a).toBe("requires cycle: a -> b -> a")
    expect(reasons.b).toBe("requires cycle: a -> b -> a")
    expect(reasons.c).toMatch(/^requires a: a is not planned \(requires cycle: a -> b -> a\)/)
    expect([...new Set(changing(p).map((x) => x.app))]).toEqual(["d"])
  })

  it("a consumer of an invalid provider is skipped", () => {
    const d = desired([
      { name: "db", services: { s: { image: 42 } } },
      app("web", { s: svc() }, { requires: [{ app: "db" }] })
    ])
    const reasons = plan(d, fresh, policy()).actions.map((a) => `${a.app}: ${a.reason}`)
    expect(reasons).toContain("web: requires db: db is invalid")
  })
})

describe("rule 4: a failed hook blocks only its consumer", () => {
  it("the hook is a dependency of the consumer's actions only", () => {
    const d = desired([
      app("db", { main: svc() }),
      app("api", { web: svc() }, { requires: [{ app: "db", onStart: { script: "h.sh" } }] }),
      app("other", { web: svc() }, { requires: [{ app: "db" }] })
    ])
    const p = plan(d, fresh, policy())
    const hook = p.actions.find((a) => a._tag === "run-hook")!
    const dependents = p.actions.filter((a) => a.waitsFor.includes(hook.id)).map((a) => a.app)
    expect(new Set(dependents)).toEqual(new Set(["api"]))
    // On an engine where the hook fails: the provider and the other consumer converge, the consumer is not created.
    const after = applyPlan(fresh, p, { failing: new Set([hook.id]) })
    const names = after.hosts[0]?._tag === "Known" ? after.hosts[0].containers.map((c) => c.name).sort() : []
    expect(names).toEqual(["db-main-1", "other-web-1"])
  })
})

describe("host port clashes", () => {
  it("an app publishing a host port another app already publishes on the same host is left out; on another host it is fine", () => {
    const port = { ports: [{ target: 80, published: 18080 }] }
    const d = desired(
      [
        app("a", { s: svc("moor-fixture/app:1", port) }),
        app("b", { s: svc("moor-fixture/app:1", port) }),
        app("c", { s: svc("moor-fixture/app:1", port) }, { hosts: ["other"] })
      ],
      { hosts: [{ name: "local" }, { name: "other" }] }
    )
    const p = plan(d, observedOf([emptyHost("local", images), emptyHost("other", images)]), policy())
    expect(p.actions.find((a) => a.app === "b")).toMatchObject({
      _tag: "skip",
      reason: "host port 18080/tcp on host local is already published by a/s"
    })
    expect([...new Set(changing(p).map((a) => a.app))]).toEqual(["a", "c"])
  })

  it("two services of one app publishing the same host port are a clash too", () => {
    const port = { ports: [{ target: 80, published: 18080 }] }
    const p = plan(
      desired([app("a", { s: svc("moor-fixture/app:1", port), t: svc("moor-fixture/app:1", port) })]),
      fresh,
      policy()
    )
    expect(p.actions).toMatchObject([
      { _tag: "skip", app: "a", reason: "host port 18080/tcp on host local is already published by a/s" }
    ])
  })
})
