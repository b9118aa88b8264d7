/** Rules 5 and 6: what is removed, what is never touched, and unreachable hosts. */
import { describe, expect, it } from "vitest"
import { destructiveKinds } from "../../core/model/plan.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, changing, deployed, desired, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const images = ["moor-fixture/app:1"]
const withVolume = (name: string) =>
  app(
    name,
    { main: svc("moor-fixture/app:1", { mounts: [{ type: "volume", source: "data", target: "/data" }] }) },
    { volumes: { data: {} } }
  )

describe("rule 5: orphans", () => {
  const both = desired([withVolume("db"), app("web", { s: svc(), t: svc() })])
  const obs = deployed(both, { images })

  it("an app removed from the spec has its containers stopped and removed, its network removed, its volumes kept", () => {
    const p = plan(desired([app("web", { s: svc(), t: svc() })]), obs, policy())
    expect(changing(p).map((a) => `${a._tag} ${a.id}`)).toEqual([
      "stop local/db/main:stop:db-main-1",
      "remove local/db/main:remove:db-main-1",
      "remove-network local:remove-network:db_default"
    ])
    expect(p.actions.find((a) => a._tag === "remove")?.reason).toBe("orphan: app db is not in the spec")
    expect(p.warnings).toContain(
      "volume db_data on host local is no longer used by the spec; kept (volumes are removed only when the policy asks for it)"
    )
  })

  it("volumes are removed only when the policy explicitly asks for it", () => {
    const p = plan(desired([app("web", { s: svc(), t: svc() })]), obs, policy({ removeVolumes: true }))
    expect(p.actions.find((a) => a._tag === "remove-volume")).toMatchObject({
      volume: "db_data",
      waitsFor: ["local/db/main:remove:db-main-1"]
    })
  })

  it("a service removed from an app is removed", () => {
    const p = plan(desired([withVolume("db"), app("web", { s: svc() })]), obs, policy())
    expect(changing(p).map((a) => a.id)).toEqual(["local/web/t:stop:web-t-1", "local/web/t:remove:web-t-1"])
    expect(p.actions.find((a) => a._tag === "remove")?.reason).toBe("orphan: service t is not in app web")
  })

  it("with prune off nothing is removed, and a warning says what is kept", () => {
    const p = plan(desired([]), obs, policy({ prune: false }))
    expect(changing(p)).toEqual([])
    expect(p.warnings.some((w) => w.startsWith("container db-main-1 on host local is kept"))).toBe(true)
  })

  it("containers without this scope's label are never in a plan, whatever their name", () => {
    const foreign = {
      ...obs,
      hosts: obs.hosts.map((h) =>
        h._tag === "Known"
          ? {
              ...h,
              containers: [
                ...h.containers,
                {
                  id: "f1",
                  name: "web-s-1",
                  labels: {},
                  state: "exited" as const,
                  health: "none" as const,
                  image: "x",
                  imageId: ""
                },
                {
                  id: "f2",
                  name: "db-main-2",
                  labels: { "moor.scope": "other", "moor.app": "db", "moor.service": "main" },
                  state: "running" as const,
                  health: "none" as const,
                  image: "x",
                  imageId: ""
                },
                {
                  id: "f3",
                  name: "shop-web-1",
                  labels: { "com.docker.compose.project": "shop" },
                  state: "running" as const,
                  health: "none" as const,
                  image: "x",
                  imageId: ""
                }
              ]
            }
          : h
      )
    }
    const p = plan(desired([]), foreign, policy())
    const touched = p.actions.flatMap((a) =>
      "container" in a && a.container !== undefined && "id" in a.container ? [a.container.id] : []
    )
    expect(touched).not.toContain("f1")
    expect(touched).not.toContain("f2")
    expect(touched).not.toContain("f3")
  })

  it("the containers of an app that fails validation are left alone", () => {
    const p = plan(
      desired([{ name: "db", services: { main: { image: "" } } }, app("web", { s: svc(), t: svc() })]),
      obs,
      policy()
    )
    expect(changing(p)).toEqual([])
    expect(p.actions.find((a) => a.app === "db")?._tag).toBe("skip")
  })
})

describe("rule 6: an unreachable host is left alone", () => {
  it("an unreachable host gets no stop, remove or recreate; the plan says it is unknown; other hosts are planned", () => {
    const d = desired([app("a", { s: svc() }, { hosts: ["h1", "h2"] })], { hosts: [{ name: "h1" }, { name: "h2" }] })
    const p = plan(
      d,
      observedOf([{ _tag: "Unreachable", host: "h1", reason: "connect ECONNREFUSED" }, emptyHost("h2", images)]),
      policy()
    )
    expect(p.actions.filter((a) => a.host === "h1").map((a) => a._tag)).toEqual(["skip"])
    expect(p.actions.filter((a) => a.host === "h1" && destructiveKinds.has(a._tag))).toEqual([])
    expect(p.hosts).toEqual([
      { host: "h1", status: "unknown", reason: "connect ECONNREFUSED" },
      { host: "h2", status: "known" }
    ])
    expect(p.apps.find((a) => a.host === "h1")?.state).toBe("unknown")
    expect(
      changing(p)
        .filter((a) => a.host === "h2")
        .map((a) => a._tag)
    ).toEqual(["ensure-network", "create", "start"])
  })

  it("an unreachable host is never read as empty: its containers are not recreated, its orphans not removed", () => {
    const d = desired([app("a", { s: svc() })])
    const p = plan(desired([]), observedOf([{ _tag: "Unreachable", host: "local", reason: "timeout" }]), policy())
    expect(p.actions).toEqual([])
    expect(
      plan(d, observedOf([{ _tag: "Unreachable", host: "local", reason: "timeout" }]), policy()).actions.map(
        (a) => a._tag
      )
    ).toEqual(["skip"])
  })
})

describe("moving an app between hosts", () => {
  const two = { hosts: [{ name: "h1" }, { name: "h2" }] }
  const onH1 = desired([app("web", { s: svc() }, { hosts: ["h1"] })], two)
  const onH2 = desired([app("web", { s: svc() }, { hosts: ["h2"] })], two)
  const before = deployed(onH1, { hosts: ["h1", "h2"], images })

  it("the app is created on the new host first; its removal from the old one waits for it to be ready", () => {
    const p = plan(onH2, before, policy())
    const ids = p.actions.map((a) => a.id)
    const start = ids.indexOf("h2/web/s:start")
    const stop = p.actions.find((a) => a.id === "h1/web/s:stop:web-s-1")
    expect(start).toBeGreaterThanOrEqual(0)
    expect(ids.indexOf("h1/web/s:stop:web-s-1")).toBeGreaterThan(start)
    expect(stop?.waitsFor).toEqual(["h2/web/s:wait-healthy"])
    expect(stop?.reason).toBe("app web moved to h2")
  })

  it("when the new host is down, the app keeps its containers and its network on the old one", () => {
    const p = plan(
      onH2,
      {
        ...before,
        hosts: before.hosts.map((h) =>
          h.host === "h2" ? { _tag: "Unreachable" as const, host: "h2", reason: "down" } : h
        )
      },
      policy()
    )
    expect(changing(p)).toEqual([])
    expect(p.actions.find((a) => a.host === "h1")?.reason).toMatch(/^app web moved to h2, but is not ready there/)
  })
})
