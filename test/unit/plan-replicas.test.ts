/** Replicas, fixed names, network modes and rolling replacements, as the planner decides them. */
import { describe, expect, it } from "vitest"
import { Label } from "../../core/names.ts"
import type { Action } from "../../core/model/plan.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, changing, deployed, desired, mutate, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const IMAGES = ["moor-fixture/app:1", "moor-fixture/app:2"]
const lines = (actions: ReadonlyArray<Action>) =>
  actions.map((a) => `${a._tag} ${a.id}${a.waitsFor.length === 0 ? "" : ` <- ${a.waitsFor.join(", ")}`}`)
const byTag = <K extends Action["_tag"]>(actions: ReadonlyArray<Action>, tag: K) =>
  actions.filter((a): a is Extract<Action, { _tag: K }> => a._tag === tag)

describe("replicas: scale and deploy.replicas", () => {
  const three = desired([app("shop", { web: svc("moor-fixture/app:1", { replicas: 3 }) })])

  it("creates <app>-<service>-1..N, each started after its create, and converges", () => {
    const p = plan(three, observedOf([emptyHost("local", IMAGES)]), policy())
    expect(byTag(p.actions, "create").map((a) => [a.id, a.container.name])).toEqual([
      ["local/shop/web:create", "shop-web-1"],
      ["local/shop/web[2]:create", "shop-web-2"],
      ["local/shop/web[3]:create", "shop-web-3"]
    ])
    expect(byTag(p.actions, "start").map((a) => a.waitsFor)).toEqual([
      ["local/shop/web:create"],
      ["local/shop/web[2]:create"],
      ["local/shop/web[3]:create"]
    ])
    const obs = deployed(three, { images: IMAGES })
    expect(changing(plan(three, obs, policy()))).toEqual([])
    // Every replica carries the same spec hash: one service, one spec.
    const hashes = new Set(
      obs.hosts.flatMap((h) => (h._tag === "Known" ? h.containers.map((c) => c.labels[Label.hash]) : []))
    )
    expect(hashes.size).toBe(1)
  })

  it("scales down by stopping and removing the highest replicas, with the reason, and up by creating the missing", () => {
    const obs = deployed(three, { images: IMAGES })
    const one = desired([app("shop", { web: svc("moor-fixture/app:1", { replicas: 1 }) })])
    const down = plan(one, obs, policy())
    expect(lines(changing(down))).toEqual([
      "stop local/shop/web:stop:shop-web-2",
      "remove local/shop/web:remove:shop-web-2 <- local/shop/web:stop:shop-web-2",
      "stop local/shop/web:stop:shop-web-3",
      "remove local/shop/web:remove:shop-web-3 <- local/shop/web:stop:shop-web-3"
    ])
    expect(new Set(changing(down).map((a) => a.reason))).toEqual(new Set(["scaled down to 1 replica"]))
    const five = desired([app("shop", { web: svc("moor-fixture/app:1", { replicas: 5 }) })])
    expect(byTag(plan(five, obs, policy()).actions, "create").map((a) => a.container.name)).toEqual([
      "shop-web-4",
      "shop-web-5"
    ])
    const zero = desired([app("shop", { web: svc("moor-fixture/app:1", { replicas: 0 }) })])
    expect(byTag(plan(zero, obs, policy()).actions, "remove")).toHaveLength(3)
  })

  it("a killed replica is started again on its own; the others are left alone", () => {
    const obs = mutate(deployed(three, { images: IMAGES }), "shop-web-2", (c) => ({
      ...c,
      state: "exited",
      exitCode: 137
    }))
    expect(lines(changing(plan(three, obs, policy())))).toEqual(["start local/shop/web[2]:start"])
  })

  it("replaces one replica at a time: each replacement waits for the one before it", () => {
    const obs = deployed(three, { images: IMAGES })
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", { replicas: 3 }) })])
    const recreates = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreates.map((a) => [a.id, a.strategy, a.waitsFor, a.current.name])).toEqual([
      ["local/shop/web:recreate", "start-first", [], "shop-web-1"],
      ["local/shop/web[2]:recreate", "start-first", ["local/shop/web:recreate"], "shop-web-2"],
      ["local/shop/web[3]:recreate", "start-first", ["local/shop/web[2]:recreate"], "shop-web-3"]
    ])
    expect(recreates.map((a) => a.steps[0]?._tag === "create" && a.steps[0].container.name)).toEqual([
      "shop-web-1-next",
      "shop-web-2-next",
      "shop-web-3-next"
    ])
  })

  it("update_config: parallelism, delay, failure_action continue, order stop-first, monitor", () => {
    const obs = deployed(three, { images: IMAGES })
    const v2 = desired([
      app("shop", {
        web: svc("moor-fixture/app:2", {
          replicas: 3,
          update: { parallelism: 2, delayMs: 5000, failureAction: "continue", order: "stop-first", monitorMs: 3000 }
        })
      })
    ])
    const recreates = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreates.map((a) => [a.id, a.waitsFor, a.after, a.delayMs, a.strategy])).toEqual([
      ["local/shop/web:recreate", [], undefined, undefined, "stop-first"],
      ["local/shop/web[2]:recreate", [], undefined, undefined, "stop-first"],
      ["local/shop/web[3]:recreate", [], ["local/shop/web:recreate"], 5000, "stop-first"]
    ])
    const wait = recreates[0]?.steps.find((s) => s._tag === "wait-healthy")
    expect(wait).toMatchObject({ monitorMs: 3000 })
  })

  it("order start-first is not followed where a second container cannot run beside the first (a fixed host port)", () => {
    const one = desired([app("shop", { web: svc("moor-fixture/app:1", { ports: [{ target: 80, published: 8080 }] }) })])
    const obs = deployed(one, { images: IMAGES })
    const v2 = desired([
      app("shop", {
        web: svc("moor-fixture/app:2", { ports: [{ target: 80, published: 8080 }], update: { order: "start-first" } })
      })
    ])
    expect(byTag(plan(v2, obs, policy()).actions, "recreate").map((a) => a.strategy)).toEqual(["stop-first"])
  })

  it("a dependent waits for every replica of the service it depends on", () => {
    const d = desired([
      app("shop", {
        api: svc("moor-fixture/app:1", {
          replicas: 2,
          healthcheck: { test: ["CMD", "true"] }
        }),
        web: svc("moor-fixture/app:1", { dependsOn: { api: { condition: "service_healthy" } } })
      })
    ])
    const p = plan(d, observedOf([emptyHost("local", IMAGES)]), policy())
    const create = byTag(p.actions, "create").find((a) => a.service === "web")
    expect(create?.waitsFor).toEqual([
      "local/shop/api:wait-healthy",
      "local/shop/api[2]:wait-healthy",
      "local:network:shop_default"
    ])
  })
})

describe("container_name", () => {
  const named = desired([app("shop", { web: svc("moor-fixture/app:1", { containerName: "nginx" }) })])

  it("the container gets the name; moor's labels keep it moor's; a replacement stays health-gated", () => {
    const p = plan(named, observedOf([emptyHost("local", IMAGES)]), policy())
    expect(byTag(p.actions, "create").map((a) => [a.container.name, a.container.labels[Label.service]])).toEqual([
      ["nginx", "web"]
    ])
    const obs = deployed(named, { images: IMAGES })
    expect(changing(plan(named, obs, policy()))).toEqual([])
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", { containerName: "nginx" }) })])
    const [recreate] = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreate?.steps.map((s) => (s._tag === "rename" ? `rename ${s.container.name} ${s.to}` : s._tag))).toEqual([
      "create",
      "start",
      "wait-healthy",
      "stop",
      "remove",
      "rename nginx-next nginx"
    ])
    expect(recreate?.rollback).toEqual([{ _tag: "remove", container: { name: "nginx-next" } }])
  })

  it("a name held by a container moor does not own is a skip that names it; that container is never touched", () => {
    const foreign = {
      id: "f1",
      name: "nginx",
      labels: {},
      state: "running" as const,
      health: "none" as const,
      image: "nginx:latest",
      imageId: ""
    }
    const host = { ...emptyHost("local", IMAGES), containers: [foreign] }
    const p = plan(named, observedOf([host]), policy())
    expect(changing(p)).toEqual([])
    expect(p.actions.find((a) => a._tag === "skip")?.reason).toContain(
      "the container name nginx is taken by a container moor does not own"
    )
  })

  it("moving between a fixed name and moor's name removes the old container first", () => {
    const plain = desired([app("shop", { web: svc("moor-fixture/app:1") })])
    const obs = deployed(plain, { images: IMAGES })
    expect(lines(changing(plan(named, obs, policy())))).toEqual([
      "remove local/shop/web:remove:shop-web-1",
      "create local/shop/web:create <- local/shop/web:remove:shop-web-1",
      "start local/shop/web:start <- local/shop/web:create"
    ])
  })
})

describe("network_mode", () => {
  it("service:NAME joins that service's container's network stack; the app's network is not needed for it", () => {
    const d = desired([
      app("shop", {
        vpn: svc("moor-fixture/app:1", { containerName: "gluetun" }),
        web: svc("moor-fixture/app:1", {
          networkMode: "service:vpn",
          dependsOn: { vpn: { condition: "service_started" } }
        })
      })
    ])
    const p = plan(d, observedOf([emptyHost("local", IMAGES)]), policy())
    const web = byTag(p.actions, "create").find((a) => a.service === "web")
    expect(web?.container.networkMode).toBe("container:gluetun")
    expect(web?.container.networks).toEqual([])
    expect(web?.waitsFor).toContain("local/shop/vpn:start")
  })

  it("host networking is replaced stop-first: the new container would need the same host ports", () => {
    const d = desired([app("shop", { web: svc("moor-fixture/app:1", { networkMode: "host" }) })])
    const obs = deployed(d, { images: IMAGES })
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", { networkMode: "host" }) })])
    const [recreate] = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreate?.strategy).toBe("stop-first")
    expect(byTag(plan(d, observedOf([emptyHost("local", IMAGES)]), policy()).actions, "ensure-network")).toEqual([])
  })
})

describe("deploy.restart_policy drives the restart budget", () => {
  it("max_attempts is the service's budget within its window", () => {
    const d = desired([
      app("shop", {
        web: svc("moor-fixture/app:1", { restartBudget: { maxAttempts: 2, windowMs: 60_000, delayMs: 0 } })
      })
    ])
    const obs = mutate(deployed(d, { images: IMAGES }), "shop-web-1", (c) => ({ ...c, state: "exited", exitCode: 1 }))
    const hash = obs.hosts[0]?._tag === "Known" ? obs.hosts[0].containers[0]?.labels[Label.hash] : ""
    const restart = (at: number) => ({ host: "local", app: "shop", service: "web", at, specHash: hash ?? "" })
    const once = plan(d, { ...obs, restarts: [restart(obs.now - 1000)] }, policy())
    expect(lines(changing(once))).toEqual(["start local/shop/web:start"])
    const twice = plan(d, { ...obs, restarts: [restart(obs.now - 2000), restart(obs.now - 1000)] }, policy())
    expect(changing(twice)).toEqual([])
    expect(twice.apps[0]?.state).toBe("failed")
    // Outside the service's window the restarts no longer count.
    const old = plan(d, { ...obs, restarts: [restart(obs.now - 120_000), restart(obs.now - 90_000)] }, policy())
    expect(lines(changing(old))).toEqual(["start local/shop/web:start"])
  })
})

describe("post_start and pre_stop", () => {
  it("start actions carry the post_start commands; a replacement's stop carries pre_stop", () => {
    const hooks = {
      postStart: [{ command: ["sh", "-c", "echo up"], user: "root" }],
      preStop: [{ command: ["sh", "-c", "echo down"] }]
    }
    const d = desired([app("shop", { web: svc("moor-fixture/app:1", hooks) })])
    const p = plan(d, observedOf([emptyHost("local", IMAGES)]), policy())
    expect(byTag(p.actions, "start")[0]?.postStart).toEqual([{ command: ["sh", "-c", "echo up"], user: "root" }])
    const obs = deployed(d, { images: IMAGES })
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", hooks) })])
    const [recreate] = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreate?.steps.find((s) => s._tag === "stop")).toMatchObject({
      preStop: [{ command: ["sh", "-c", "echo down"] }]
    })
    expect(recreate?.steps.find((s) => s._tag === "start")).toMatchObject({
      postStart: [{ command: ["sh", "-c", "echo up"], user: "root" }]
    })
  })
})

describe("pull_policy", () => {
  const withPolicy = (extra: Parameters<typeof svc>[1]) =>
    desired([app("shop", { web: svc("moor-fixture/app:1", extra) })])

  it("always: one pull per pass, even when the container is as specified; none once this pass pulled", () => {
    const d = withPolicy({ pullPolicy: "always" })
    const obs = deployed(withPolicy({}), { images: IMAGES })
    expect(lines(changing(plan(d, { ...obs, passStartedAt: obs.now }, policy())))).toEqual([
      "pull-image local:pull:moor-fixture/app:1"
    ])
    const pulled = {
      ...obs,
      passStartedAt: obs.now - 10,
      pulls: [{ host: "local", image: "moor-fixture/app:1", at: obs.now - 5 }]
    }
    expect(changing(plan(d, pulled, policy()))).toEqual([])
  })

  it("daily: pulled when moor's last pull there is older than a day, with the reason", () => {
    const d = withPolicy({ pullPolicy: "refresh", pullRefreshMs: 24 * 3600_000 })
    const obs = deployed(withPolicy({}), { images: IMAGES })
    const at = (ago: number) => ({ ...obs, pulls: [{ host: "local", image: "moor-fixture/app:1", at: obs.now - ago }] })
    expect(changing(plan(d, at(3600_000), policy()))).toEqual([])
    const [pull] = changing(plan(d, at(25 * 3600_000), policy()))
    expect(pull?.reason).toBe("pull_policy: every 24h (last pulled 25h ago)")
  })

  it("never: a missing image is a skip that says so; nothing is pulled", () => {
    const d = withPolicy({ pullPolicy: "never" })
    const p = plan(d, observedOf([emptyHost("local", [])]), policy())
    expect(changing(p)).toEqual([])
    expect(p.actions.map((a) => a.reason)).toContain(
      "image moor-fixture/app:1 is not on host local and pull_policy is never: load it there, or change pull_policy"
    )
  })
})

describe("rollback_config and failure_action", () => {
  const writable = { mounts: [{ type: "bind" as const, source: "/srv/data", target: "/data" }] }
  it("rollback_config.order start-first brings the old container back before the failed one goes, then monitors it", () => {
    const d = desired([app("shop", { web: svc("moor-fixture/app:1", writable) })])
    const obs = deployed(d, { images: IMAGES })
    const v2 = desired([
      app("shop", {
        web: svc("moor-fixture/app:2", { ...writable, rollback: { order: "start-first", monitorMs: 2000 } })
      })
    ])
    const [recreate] = byTag(plan(v2, obs, policy()).actions, "recreate")
    expect(recreate?.strategy).toBe("stop-first")
    expect(recreate?.rollback.map((s) => `${s._tag} ${s.container.name}`)).toEqual([
      "start shop-web-1-old",
      "wait-healthy shop-web-1-old",
      "remove shop-web-1",
      "rename shop-web-1-old"
    ])
  })
  it("failure_action pause leaves a failed replacement as it is: no rollback steps", () => {
    const d = desired([app("shop", { web: svc("moor-fixture/app:1") })])
    const obs = deployed(d, { images: IMAGES })
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", { update: { failureAction: "pause" } }) })])
    expect(byTag(plan(v2, obs, policy()).actions, "recreate")[0]?.rollback).toEqual([])
  })
})

describe("a service that runs on some hosts only", () => {
  it("is created where it runs, and removed (with the reason) where it does not", () => {
    const d = desired(
      [
        app(
          "shop",
          { web: svc("moor-fixture/app:1"), trainer: svc("moor-fixture/app:1", { hosts: ["gpu"] }) },
          { hosts: ["a", "gpu"] }
        )
      ],
      { hosts: [{ name: "a" }, { name: "gpu" }] }
    )
    const p = plan(d, observedOf([emptyHost("a", IMAGES), emptyHost("gpu", IMAGES)]), policy())
    expect(byTag(p.actions, "create").map((a) => `${a.host} ${a.container.name}`)).toEqual([
      "a shop-web-1",
      "gpu shop-trainer-1",
      "gpu shop-web-1"
    ])
    expect(p.apps.map((a) => `${a.host} ${a.services.map((s) => s.service).join(",")}`)).toEqual([
      "a web",
      "gpu trainer,web"
    ])
    const everywhere = desired(
      [app("shop", { web: svc("moor-fixture/app:1"), trainer: svc("moor-fixture/app:1") }, { hosts: ["a", "gpu"] })],
      { hosts: [{ name: "a" }, { name: "gpu" }] }
    )
    const obs = deployed(everywhere, { hosts: ["a", "gpu"], images: IMAGES })
    const removed = changing(plan(d, obs, policy())).filter((a) => a._tag === "remove")
    expect(removed.map((a) => `${a.host} ${a.reason}`)).toEqual(["a its profile is not enabled on host a"])
  })
})

describe("images as the engine lists them", () => {
  it("docker.io/ and docker.io/library/ names, and name:tag@digest refs, are found on the host as listed", () => {
    const refs = ["docker.io/library/redis:7", "docker.io/valkey/valkey:8", "ghcr.io/app/pg:14@sha256:abc"]
    const d = desired([app("shop", Object.fromEntries(refs.map((image, i) => [`s${i}`, svc(image)])))])
    const host = {
      ...emptyHost("local", []),
      images: [
        { id: "sha256:1", tags: ["redis:7"] },
        { id: "sha256:2", tags: ["valkey/valkey:8"] },
        { id: "sha256:3", tags: [], digests: ["ghcr.io/app/pg@sha256:abc"] }
      ]
    }
    expect(plan(d, observedOf([host]), policy()).actions.filter((a) => a._tag === "pull-image")).toEqual([])
  })
})
