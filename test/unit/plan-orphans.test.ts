/** Rules 5 and 6: what is removed, what is never touched, and unreachable hosts. */
import { describe, expect, it } from "vitest"
import { destructiveKinds } from "../../core/model/plan.ts"
import { plan } from "../../core/plan/plan.ts"
import { selectApps } from "../../core/select.ts"
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

describe("while part of the spec could not be read", () => {
  const both = desired([withVolume("db"), app("web", { s: svc(), t: svc() })])
  const obs = deployed(both, { images })
  const unreadable = ["shop/x/compose.yaml: permission denied: moor cannot read it (check its owner and mode)"]
  const webOnly = { ...desired([app("web", { s: svc() })]), unreadable }

  it("an app not in the spec keeps its containers, network and volume; the plan says why", () => {
    const p = plan(webOnly, obs, policy({ removeVolumes: true }))
    expect(changing(p).map((a) => a.id)).toEqual(["local/web/t:stop:web-t-1", "local/web/t:remove:web-t-1"])
    const kept = p.actions.find((a) => a.app === "db")
    expect(kept).toMatchObject({ _tag: "skip", id: "local/db/main:keep:db-main-1" })
    expect(kept?.reason).toBe(
      `app db is not in the spec as read, but part of the spec could not be read (${unreadable[0]}) and may declare it; kept until it can be read`
    )
    expect(p.apps.find((a) => a.app === "db")?.skipped).toBe(kept?.reason)
    expect(p.warnings).toContain(
      `part of the spec could not be read (${unreadable[0]}): apps not in the spec are kept, not removed, until it can be read`
    )
  })

  it("with prune off, nothing is removed anyway: the warning says so, without a skip", () => {
    const p = plan(webOnly, obs, policy({ prune: false }))
    expect(p.actions.filter((a) => a.app === "db")).toEqual([])
    expect(p.warnings.some((w) => w.startsWith("container db-main-1 on host local is kept"))).toBe(true)
  })
})

describe("an app's removal touches only that app", () => {
  // x is taken down; o is an orphan kept so far (prune was off); m moved from h1 to h2.
  const hosts = { hosts: [{ name: "h1" }, { name: "h2" }] }
  const all = desired(
    [
      withVolume("x"),
      withVolume("o"),
      app("m", { s: svc() }, { hosts: ["h1"] }),
      app("k", { s: svc() }, { hosts: ["h1"] })
    ].map((a) => ({ ...a, hosts: ["h1"] })),
    hosts
  )
  const obs = deployed(all, { hosts: ["h1", "h2"], images })
  const after = desired([app("m", { s: svc() }, { hosts: ["h2"] }), app("k", { s: svc() }, { hosts: ["h1"] })], hosts)

  it("an app's network and volume removals wait for its own containers only", () => {
    const p = plan(after, obs, policy({ removeVolumes: true }))
    const byId = new Map(p.actions.map((a) => [a.id, a]))
    for (const a of p.actions.filter((x) => x._tag === "remove-network" || x._tag === "remove-volume")) {
      expect(a.waitsFor.length, a.id).toBeGreaterThan(0)
      for (const w of a.waitsFor) expect(byId.get(w)?.app, `${a.id} waits for ${w}`).toBe(a.app)
    }
  })

  it("the plan of `moor down x` (x out of the spec, selected) holds x's actions alone", () => {
    const p = selectApps(plan(after, obs, policy({ removeVolumes: true })), ["x"])
    expect(p.actions.map((a) => a.id).sort()).toEqual([
      "h1/x/main:remove:x-main-1",
      "h1/x/main:stop:x-main-1",
      "h1:remove-network:x_default",
      "h1:remove-volume:x_data"
    ])
  })
})

describe("a scope taken from the spec folder's name", () => {
  const hereA = { path: "/home/u/a/shop", scopeFromFolder: true }
  const hereB = { path: "/home/u/b/shop", scopeFromFolder: true }
  const fromA = { ...desired([app("web", { s: svc() })], { scope: "shop" }), origin: hereA }
  const obs = deployed(fromA, { images })

  it("everything moor creates records the spec's path", () => {
    const p = plan(fromA, observedOf([emptyHost("local", images)]), policy())
    const create = p.actions.find((a) => a._tag === "create")
    const network = p.actions.find((a) => a._tag === "ensure-network")
    expect(create?._tag === "create" && create.container.labels["moor.spec"]).toBe(hereA.path)
    expect(network?._tag === "ensure-network" && network.network.labels?.["moor.spec"]).toBe(hereA.path)
  })

  it("a host holding the scope's containers from a spec at another path is left alone, with why", () => {
    const fromB = { ...desired([app("shop-api", { s: svc() })], { scope: "shop" }), origin: hereB }
    const p = plan(fromB, obs, policy())
    expect(p.actions.filter((a) => a._tag !== "skip")).toEqual([])
    expect(p.hosts).toEqual([
      {
        host: "local",
        status: "unknown",
        reason:
          "scope shop is another spec's here: container web-s-1 was made from the spec at /home/u/a/shop, and this spec (/home/u/b/shop) takes the same scope from its folder's name; set scope: in its moor.yaml (a name of its own, or shop if it is that spec, moved)"
      }
    ])
  })

  it("the same spec, and containers made before moor recorded the path, are planned as usual", () => {
    expect(plan(fromA, obs, policy()).hosts).toEqual([{ host: "local", status: "known" }])
    const legacy = deployed(desired([app("web", { s: svc() })], { scope: "shop" }), { images })
    const p = plan({ ...desired([], { scope: "shop" }), origin: hereB }, legacy, policy())
    expect(changing(p).map((a) => a._tag)).toEqual(["stop", "remove", "remove-network"])
  })

  it("a scope that is set is the user's word: two paths may share it", () => {
    const p = plan({ ...desired([], { scope: "shop" }), origin: { ...hereB, scopeFromFolder: false } }, obs, policy())
    expect(changing(p).map((a) => a._tag)).toEqual(["stop", "remove", "remove-network"])
  })
})
