/** Rule 1: per container, ensure it runs as specified. */
import { describe, expect, it } from "vitest"
import { plan } from "../../core/plan/plan.ts"
import type { Plan } from "../../core/model/plan.ts"
import { app, changing, deployed, desired, mutate, policy, svc, T0 } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const one = desired([app("shop", { web: svc("moor-fixture/app:1", { healthcheck: { test: ["CMD", "true"] } }) })])
const base = deployed(one, { images: ["moor-fixture/app:1"] })
const only = (p: Plan) =>
  changing(p).map((a) =>
    `${a._tag} ${"container" in a && a.container !== undefined && "name" in a.container ? a.container.name : ""}`.trim()
  )

describe("rule 1: ensure running", () => {
  it("a running, healthy container with an unchanged spec needs nothing", () => {
    expect(only(plan(one, base, policy()))).toEqual([])
  })

  it("a running container without a health check and an unchanged spec needs nothing", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = deployed(d, { images: ["moor-fixture/app:1"] })
    expect(obs.hosts[0]?._tag === "Known" && obs.hosts[0].containers[0]?.health).toBe("none")
    expect(only(plan(d, obs, policy()))).toEqual([])
  })

  it("a missing container is created and started; the image is pulled only when absent", () => {
    const present = plan(one, { now: T0, hosts: [emptyHost("local", ["moor-fixture/app:1"])] }, policy())
    expect(present.actions.map((a) => a._tag)).toEqual(["ensure-network", "create", "start"])
    const absent = plan(one, { now: T0, hosts: [emptyHost("local")] }, policy())
    expect(absent.actions.map((a) => a._tag)).toEqual(["ensure-network", "pull-image", "create", "start"])
    const create = absent.actions.find((a) => a._tag === "create")!
    expect(create.waitsFor).toContain("local:pull:moor-fixture/app:1")
  })

  it("pull policy always pulls before every create even when the image is present", () => {
    const p = plan(one, { now: T0, hosts: [emptyHost("local", ["moor-fixture/app:1"])] }, policy({ pull: "always" }))
    expect(p.actions.map((a) => a._tag)).toContain("pull-image")
  })

  it("a stopped (exited) container is started, and the start counts as a restart", () => {
    const obs = mutate(base, "shop-web-1", (c) => ({ ...c, state: "exited", exitCode: 137, health: "none" }))
    const p = plan(one, obs, policy())
    expect(only(p)).toEqual(["start shop-web-1"])
    const start = p.actions.find((a) => a._tag === "start")!
    expect(start.reason).toBe("exited (137)")
    expect(start.restartOf).toMatch(/^[0-9a-f]{32}$/)
  })

  it("a stopped container whose spec changed is recreated, not started", () => {
    const obs = mutate(base, "shop-web-1", (c) => ({ ...c, state: "exited", exitCode: 0 }))
    const changed = desired([
      app("shop", { web: svc("moor-fixture/app:2", { healthcheck: { test: ["CMD", "true"] } }) })
    ])
    const p = plan(changed, obs, policy())
    expect(only(p)).toEqual(["pull-image", "recreate shop-web-1"])
    const recreate = p.actions.find((a) => a._tag === "recreate")!
    expect(recreate._tag === "recreate" && recreate.strategy).toBe("remove-first")
    expect(recreate.restartOf).toBeUndefined()
  })

  it.each([
    ["created", "wedged: created but never started"],
    ["paused", "wedged: paused"],
    ["dead", "wedged: dead"]
  ] as const)("a %s container is force recreated", (state, reason) => {
    const obs = mutate(base, "shop-web-1", (c) => ({ ...c, state, health: "none" }))
    const p = plan(one, obs, policy())
    const recreate = p.actions.find((a) => a._tag === "recreate")
    expect(recreate?.reason).toBe(reason)
    expect(recreate?._tag === "recreate" && recreate.strategy).toBe("remove-first")
  })

  it("a container restarting in a loop past the limit is recreated; below the limit the engine is left to it", () => {
    const looping = (n: number) => mutate(base, "shop-web-1", (c) => ({ ...c, state: "restarting", restartCount: n }))
    expect(only(plan(one, looping(2), policy({ restartingLimit: 3 })))).toEqual([])
    const p = plan(one, looping(7), policy({ restartingLimit: 3 }))
    expect(p.actions.find((a) => a._tag === "recreate")?.reason).toBe("wedged: restarting in a loop (7 restarts)")
  })

  it("a running container unhealthy past the grace period is recreated; within it, nothing happens", () => {
    const sick = (since: number) =>
      mutate(base, "shop-web-1", (c) => ({ ...c, health: "unhealthy", unhealthySince: since }))
    expect(only(plan(one, sick(T0 - 10_000), policy({ unhealthyGraceMs: 30_000 })))).toEqual([])
    const p = plan(one, sick(T0 - 45_000), policy({ unhealthyGraceMs: 30_000 }))
    const recreate = p.actions.find((a) => a._tag === "recreate")
    expect(recreate?.reason).toBe("unhealthy for 45s")
    expect(recreate?.restartOf).toBeDefined()
  })

  it("a spec change recreates with a reason that names what changed", () => {
    const d1 = desired([
      app("shop", { web: svc("moor-fixture/app:1", { environment: { API_URL: "http://a", KEEP: "1" } }) })
    ])
    const obs = deployed(d1, { images: ["moor-fixture/app:1", "moor-fixture/app:2"] })
    const d2 = desired([
      app("shop", { web: svc("moor-fixture/app:2", { environment: { API_URL: "http://b", KEEP: "1", NEW: "x" } }) })
    ])
    const recreate = plan(d2, obs, policy()).actions.find((a) => a._tag === "recreate")
    expect(recreate?.reason).toBe("image moor-fixture/app:1 -> :2, env API_URL changed, env NEW added")
    const d3 = desired([
      app("shop", {
        web: svc("moor-fixture/app:1", { environment: { API_URL: "http://a", KEEP: "1" }, command: ["sh"] })
      })
    ])
    expect(plan(d3, obs, policy()).actions.find((a) => a._tag === "recreate")?.reason).toBe("command added")
  })

  it("a container being removed is skipped with a reason, and created on a later pass", () => {
    const obs = mutate(base, "shop-web-1", (c) => ({ ...c, state: "removing" }))
    const p = plan(one, obs, policy())
    expect(only(p)).toEqual([])
    expect(p.actions.find((a) => a._tag === "skip")?.reason).toMatch(/being removed/)
  })
})
