/** Rule 2: drift by canonical spec hash; no false drift; moor upgrades recreate nothing. */
import { describe, expect, it } from "vitest"
import { containerConfig, defaultHashAlgorithms, type HashAlgorithms, HASH_VERSION } from "../../core/container-spec.ts"
import { canonicalJson, hash128 } from "../../core/hash.ts"
import { Label } from "../../core/names.ts"
import { plan } from "../../core/plan/plan.ts"
import { prepareApp } from "../../core/plan/prepare.ts"
import { app, changing, deployed, desired, mutate, policy, svc } from "../support/core-fixtures.ts"
import { imageIdOf } from "../support/reference-engine.ts"

const specHashOf = (a: ReturnType<typeof app>, service: string) =>
  prepareApp(a, policy(), defaultHashAlgorithms).byName.get(service)!.specHash

describe("rule 2: drift by canonical hash", () => {
  it("field order, map order and the order of orderless lists do not change the hash", () => {
    const a = app("shop", {
      web: svc("moor-fixture/app:1", {
        environment: { B: "2", A: "1" },
        labels: { y: "1", x: "2" },
        ports: [{ target: 81 }, { target: 80, published: 8080 }],
        capAdd: ["NET_ADMIN", "CHOWN"],
        extraHosts: ["b:2.2.2.2", "a:1.1.1.1"]
      })
    })
    const b = app("shop", {
      web: {
        extraHosts: ["a:1.1.1.1", "b:2.2.2.2"],
        capAdd: ["CHOWN", "NET_ADMIN"],
        ports: [{ published: 8080, target: 80 }, { target: 81 }],
        labels: { x: "2", y: "1" },
        environment: { A: "1", B: "2" },
        image: "moor-fixture/app:1"
      }
    })
    expect(specHashOf(a, "web")).toBe(specHashOf(b, "web"))
  })

  it("spelling out a default the engine applies anyway does not change the hash", () => {
    const bare = app("shop", { web: svc("redis", { ports: [{ target: 80 }] }) })
    const spelled = app("shop", {
      web: svc("redis:latest", {
        ports: [{ target: 80, protocol: "tcp" }],
        restart: "no",
        init: false,
        readOnly: false,
        stopGracePeriodMs: 10_000,
        environment: {},
        labels: {},
        capAdd: [],
        networks: { default: {} }
      })
    })
    expect(specHashOf(spelled, "web")).toBe(specHashOf(bare, "web"))
  })

  it("what the service depends on, and how long others wait for it, are not part of the container", () => {
    const a = app("shop", { db: svc(), web: svc() })
    const b = app("shop", {
      db: svc(),
      web: svc("moor-fixture/app:1", { dependsOn: { db: { condition: "service_started" } }, healthTimeoutMs: 5000 })
    })
    expect(specHashOf(a, "web")).toBe(specHashOf(b, "web"))
  })

  it("the content of a file the service's configuration comes from is part of the hash", () => {
    const a = app("shop", { web: svc("moor-fixture/app:1", { configDigests: { "web.env": "sha256:aaa" } }) })
    const b = app("shop", { web: svc("moor-fixture/app:1", { configDigests: { "web.env": "sha256:bbb" } }) })
    expect(specHashOf(a, "web")).not.toBe(specHashOf(b, "web"))
    const obs = deployed(desired([a]), { images: ["moor-fixture/app:1"] })
    expect(plan(desired([b]), obs, policy()).actions.find((x) => x._tag === "recreate")?.reason).toBe(
      "file web.env changed"
    )
  })

  it("labels the image brings and labels the engine adds are not drift", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = mutate(deployed(d, { images: ["moor-fixture/app:1"] }), "shop-web-1", (c) => ({
      ...c,
      labels: { ...c.labels, "moor.fixture": "app", "org.opencontainers.image.version": "1" }
    }))
    expect(changing(plan(d, obs, policy()))).toEqual([])
  })

  it("a container labelled by an older hash version is compared by that version's algorithm, never recreated by an upgrade", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = deployed(d, { images: ["moor-fixture/app:1"] })
    // A newer moor: hash version 2 with a different algorithm, still knowing version 1.
    const upgraded: HashAlgorithms = {
      current: "2",
      byVersion: { ...defaultHashAlgorithms.byVersion, "2": (input) => hash128(`v2${canonicalJson(input.config)}`) }
    }
    expect(changing(plan(d, obs, policy(), { hashAlgorithms: upgraded }))).toEqual([])
    // ...and a real change is still found through the old algorithm.
    const changed = desired([app("shop", { web: svc("moor-fixture/app:1", { environment: { A: "1" } }) })])
    expect(plan(changed, obs, policy(), { hashAlgorithms: upgraded }).actions.map((a) => a._tag)).toContain("recreate")
  })

  it("a container labelled by an unknown (newer) hash version is left as is, with a warning", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = mutate(deployed(d, { images: ["moor-fixture/app:1"] }), "shop-web-1", (c) => ({
      ...c,
      labels: { ...c.labels, [Label.hashVersion]: "99", [Label.hash]: "whatever" }
    }))
    const p = plan(d, obs, policy())
    expect(changing(p)).toEqual([])
    expect(p.warnings.join("\n")).toMatch(/hash version 99/)
  })

  it("the current hash version is written on every container moor creates", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = deployed(d, { images: ["moor-fixture/app:1"] })
    const c = obs.hosts[0]?._tag === "Known" ? obs.hosts[0].containers[0] : undefined
    expect(c?.labels[Label.hashVersion]).toBe(HASH_VERSION)
    expect(c?.labels[Label.hash]).toBe(specHashOf(app("shop", { web: svc() }), "web"))
  })

  it("a new image behind the same tag is drift, and the reason names both image ids", () => {
    const d = desired([app("shop", { web: svc() })])
    const obs = deployed(d, { images: ["moor-fixture/app:1"] })
    const repushed = {
      ...obs,
      hosts: obs.hosts.map((h) =>
        h._tag === "Known" ? { ...h, images: [{ id: "sha256:0123456789abcdef", tags: ["moor-fixture/app:1"] }] } : h
      )
    }
    const reason = plan(d, repushed, policy()).actions.find((a) => a._tag === "recreate")?.reason
    expect(reason).toBe(
      `image moor-fixture/app:1 updated (${imageIdOf("moor-fixture/app:1").slice(7, 19)} -> 0123456789ab)`
    )
  })

  it("the resolved container config names engine volumes and networks", () => {
    const a = app(
      "shop",
      {
        web: svc("moor-fixture/app:1", {
          mounts: [{ type: "volume", source: "data", target: "/data" }],
          networks: { back: { aliases: ["w"] } }
        })
      },
      { volumes: { data: {} }, networks: { back: { name: "shared-back" } } }
    )
    const config = containerConfig(a, "web", a.services.web!)
    expect(config.mounts).toEqual([{ type: "volume", source: "shop_data", target: "/data", readOnly: false }])
    expect(config.networks).toEqual([{ name: "shared-back", aliases: ["web", "w"] }])
  })
})

describe("rule 2: the hash of a given spec never changes under a hash version", () => {
  it("golden: this spec hashes to the same value as when hash version 1 shipped", () => {
    // If this fails, containers deployed by an earlier moor would all be recreated: keep the old
    // algorithm under its version and bump HASH_VERSION instead of changing version 1.
    const a = app(
      "shop",
      {
        web: svc("moor-fixture/app:1", {
          command: ["sh", "-c", "exec httpd"],
          environment: { B: "2", A: "1" },
          ports: [{ target: 8080, published: 18080, hostIp: "127.0.0.1" }],
          mounts: [{ type: "volume", source: "data", target: "/data", readOnly: true }],
          labels: { team: "shop" },
          healthcheck: { test: ["CMD", "true"], intervalMs: 1000 },
          restart: "always",
          init: true,
          configDigests: { "web.env": "sha256:abc" }
        })
      },
      { version: "3", volumes: { data: {} } }
    )
    expect(HASH_VERSION).toBe("1")
    expect(specHashOf(a, "web")).toBe("98d68a4d9b4ad58b72b692146bfce785")
    expect(prepareApp(a, policy(), defaultHashAlgorithms).specHash).toBe("8e6b00b22423456557ea98acac8cd107")
  })
})

describe("rule 2: health-gated replacement", () => {
  const images = ["moor-fixture/app:1", "moor-fixture/app:2"]
  const steps = (d1: ReturnType<typeof desired>, d2: ReturnType<typeof desired>) => {
    const r = plan(d2, deployed(d1, { images }), policy()).actions.find((a) => a._tag === "recreate")
    if (r?._tag !== "recreate") throw new Error("no recreate")
    return r
  }

  it("a service without fixed ports or writable mounts is replaced start-first; a failure removes only the new container", () => {
    const r = steps(
      desired([app("shop", { web: svc("moor-fixture/app:1") })]),
      desired([app("shop", { web: svc("moor-fixture/app:2") })])
    )
    expect(r.strategy).toBe("start-first")
    expect(r.steps.map((s) => `${s._tag} ${s.container.name}${s._tag === "rename" ? ` ${s.to}` : ""}`)).toEqual([
      "create shop-web-1-next",
      "start shop-web-1-next",
      "wait-healthy shop-web-1-next",
      "stop shop-web-1",
      "remove shop-web-1",
      "rename shop-web-1-next shop-web-1"
    ])
    expect(r.rollback.map((s) => `${s._tag} ${s.container.name}`)).toEqual(["remove shop-web-1-next"])
  })

  it("a service publishing a fixed host port is replaced stop-first, and its rollback brings the old container back", () => {
    const port = { ports: [{ target: 8080, published: 18080 }] }
    const r = steps(
      desired([app("shop", { web: svc("moor-fixture/app:1", port) })]),
      desired([app("shop", { web: svc("moor-fixture/app:2", port) })])
    )
    expect(r.strategy).toBe("stop-first")
    expect(r.steps.map((s) => s._tag)).toEqual(["stop", "rename", "create", "start", "wait-healthy", "remove"])
    expect(r.rollback.map((s) => `${s._tag} ${s.container.name}${s._tag === "rename" ? ` ${s.to}` : ""}`)).toEqual([
      "remove shop-web-1",
      "rename shop-web-1-old shop-web-1",
      "start shop-web-1"
    ])
  })

  it("a service with a writable named volume is replaced stop-first (two writers never share its data)", () => {
    const vol = { mounts: [{ type: "volume" as const, source: "data", target: "/data" }] }
    const r = steps(
      desired([app("shop", { db: svc("moor-fixture/app:1", vol) }, { volumes: { data: {} } })]),
      desired([app("shop", { db: svc("moor-fixture/app:2", vol) }, { volumes: { data: {} } })])
    )
    expect(r.strategy).toBe("stop-first")
  })
})

describe("rule 2: one-shot jobs", () => {
  const jobs = new Set(["moor-fixture/job:1"])
  const images = ["moor-fixture/app:1", "moor-fixture/job:1"]
  const d = desired([
    app("api", {
      migrate: svc("moor-fixture/job:1", { restart: "no" }),
      web: svc("moor-fixture/app:1", { dependsOn: { migrate: { condition: "service_completed_successfully" } } })
    })
  ])

  it("a service that depends on a job with service_completed_successfully waits for the job to complete", () => {
    const p = plan(d, deployed(desired([]), { images }), policy())
    const waitJob = p.actions.find((a) => a._tag === "wait-completed")
    expect(waitJob?.id).toBe("local/api/migrate:wait-completed")
    expect(p.actions.find((a) => a.id === "local/api/web:create")?.waitsFor).toContain(waitJob?.id)
  })

  it("a job that exited 0 is complete, not failed, and not run again while its spec is unchanged", () => {
    const obs = deployed(d, { images, jobs })
    const p = plan(d, obs, policy())
    expect(changing(p)).toEqual([])
    expect(p.apps.find((a) => a.app === "api")?.state).toBe("running")
    expect(p.apps.find((a) => a.app === "api")?.services.find((s) => s.service === "migrate")?.state).toBe("completed")
  })

  it("a job that exited with an error is run again", () => {
    const obs = mutate(deployed(d, { images, jobs }), "api-migrate-1", (c) => ({ ...c, exitCode: 1 }))
    expect(changing(plan(d, obs, policy())).map((a) => a.id)).toEqual(["local/api/migrate:start"])
  })

  it("a job whose spec changed runs again, and its dependents wait for it", () => {
    const obs = deployed(d, { images, jobs })
    const d2 = desired([
      app("api", {
        migrate: svc("moor-fixture/job:1", { restart: "no", environment: { TO: "v2" } }),
        web: svc("moor-fixture/app:1", { dependsOn: { migrate: { condition: "service_completed_successfully" } } })
      })
    ])
    const p = plan(d2, obs, policy())
    const r = p.actions.find((a) => a._tag === "recreate")
    expect(r?._tag === "recreate" && r.strategy).toBe("remove-first")
    expect(r?._tag === "recreate" && r.steps.map((s) => s._tag)).toEqual(["remove", "create", "start"])
  })
})

describe("rule 2: restart budget", () => {
  const d = desired([app("shop", { web: svc() })])
  const base = deployed(d, { images: ["moor-fixture/app:1"] })
  const crashed = mutate(base, "shop-web-1", (c) => ({ ...c, state: "exited", exitCode: 3 }))
  const hash = prepareApp(d.apps[0]!, policy(), defaultHashAlgorithms).byName.get("web")!.specHash
  const restarts = (ats: ReadonlyArray<number>, specHash = hash) =>
    ats.map((at) => ({ host: "local", app: "shop", service: "web", at, specHash }))
  const at = (offsets: ReadonlyArray<number>) => offsets.map((o) => crashed.now - o)
  const p = (rs: ReturnType<typeof restarts>, overrides = {}) =>
    plan(
      d,
      { ...crashed, restarts: rs },
      policy({ restartBackoffMs: 1000, restartBudget: 5, restartWindowMs: 300_000, ...overrides })
    )

  it("restarts back off: after n restarts, the next waits base * 2^(n-1)", () => {
    expect(changing(p(restarts(at([500])))).length).toBe(0)
    expect(p(restarts(at([500]))).actions[0]?.reason).toMatch(/backing off after 1 restart: next in 500ms/)
    expect(changing(p(restarts(at([1500])))).map((a) => a._tag)).toEqual(["start"])
    expect(changing(p(restarts(at([3000, 1500])))).length).toBe(0)
    expect(changing(p(restarts(at([4000, 2500])))).map((a) => a._tag)).toEqual(["start"])
  })

  it("after the budget the app is reported failed and left alone", () => {
    const result = p(restarts(at([100_000, 80_000, 60_000, 40_000, 20_000])))
    expect(changing(result)).toEqual([])
    const summary = result.apps.find((a) => a.app === "shop")
    expect(summary?.state).toBe("failed")
    expect(summary?.skipped).toMatch(
      /restart budget exhausted: 5 restarts in 5m; left alone for 3m20s or until the spec changes/
    )
  })

  it("restarts older than the window do not count", () => {
    const result = p(restarts(at([400_000, 380_000, 360_000, 340_000, 320_000])))
    expect(changing(result).map((a) => a._tag)).toEqual(["start"])
  })

  it("a spec change gives the service a new budget", () => {
    const result = p(restarts(at([100_000, 80_000, 60_000, 40_000, 20_000]), "an-older-spec-hash"))
    expect(changing(result).map((a) => a._tag)).toEqual(["start"])
  })
})

describe("rule 2: a failed update is not retried while its spec is unchanged", () => {
  const d1 = desired([app("shop", { web: svc("moor-fixture/app:1", { ports: [{ target: 8080, published: 18080 }] }) })])
  const d2 = desired([app("shop", { web: svc("moor-fixture/app:2", { ports: [{ target: 8080, published: 18080 }] }) })])
  const obs = deployed(d1, { images: ["moor-fixture/app:1", "moor-fixture/app:2"] })
  const newHash = prepareApp(d2.apps[0]!, policy(), defaultHashAlgorithms).byName.get("web")!.specHash
  const failed = (specHash: string) => ({
    ...obs,
    failedRollouts: [
      {
        host: "local",
        app: "shop",
        service: "web",
        specHash,
        at: obs.now - 90_000,
        error:
          "replacement failed at step 5 (wait-healthy shop-web-1): shop-web-1 is unhealthy; rolled back, shop-web-1 kept"
      }
    ]
  })

  it("the update that failed is left alone, with a skip that says why and how to try again", () => {
    const p = plan(d2, failed(newHash), policy())
    expect(changing(p)).toEqual([])
    expect(p.actions.find((a) => a._tag === "skip")?.reason).toBe(
      "the update (image moor-fixture/app:1 -> :2) failed 1m30s ago and was rolled back: replacement failed at step 5 (wait-healthy shop-web-1): shop-web-1 is unhealthy; rolled back, shop-web-1 kept; it is not tried again until the spec changes (moor apply --retry-failed tries it now)"
    )
  })
  it("a changed spec is tried (the failure was about another spec)", () => {
    expect(changing(plan(d2, failed("another-spec-hash"), policy())).map((a) => a._tag)).toEqual(["recreate"])
  })
  it("--retry-failed tries it again", () => {
    expect(changing(plan(d2, failed(newHash), policy({ retryFailed: true }))).map((a) => a._tag)).toEqual(["recreate"])
  })
})
