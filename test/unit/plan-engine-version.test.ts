/**
 * A key the host's engine cannot express (its Engine API is too old) is planned as one skip for the
 * service on that host, naming the key, the engine's version and what to do; newer engines, other
 * hosts and engines of unknown version are planned as before.
 */
import { describe, expect, it } from "vitest"
import {
  apiAtLeast,
  engineCannotExpress,
  type FeatureTable,
  SERVICE_MIN_API,
  usedFeatures
} from "../../core/engine-features.ts"
import { containerConfig } from "../../core/container-spec.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import type { KnownHost } from "../../core/model/observed.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, changing, deployed, desired, policy, svc, T0 } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const docker20: Partial<KnownHost> = { engineVersion: "20.10.24+dfsg1", apiVersion: "1.41" }
const docker26: Partial<KnownHost> = { engineVersion: "26.1.5+dfsg1", apiVersion: "1.45" }
const onEngine = (engine: Partial<KnownHost>, host = "local"): KnownHost => ({
  ...emptyHost(host, ["moor-fixture/app:1"]),
  ...engine
})

const startInterval = svc("moor-fixture/app:1", {
  healthcheck: { test: ["CMD", "true"], startPeriodMs: 30_000, startIntervalMs: 1_000 }
})
const plain = svc("moor-fixture/app:1", { healthcheck: { test: ["CMD", "true"] } })

describe("keys an engine's API cannot express", () => {
  it("healthcheck.start_interval on Docker 20.10 (API 1.41): one skip for that service, with what to do; the other service is created", () => {
    const d = desired([app("shop", { web: startInterval, worker: plain })])
    const p = plan(d, { now: T0, hosts: [onEngine(docker20)] }, policy())
    const skips = p.actions.filter((a) => a._tag === "skip")
    expect(skips).toEqual([
      {
        _tag: "skip",
        id: "local/shop/web:skip",
        host: "local",
        app: "shop",
        service: "web",
        reason:
          "healthcheck.start_interval needs Docker Engine API 1.44 (Docker 25) or newer; host local runs Docker 20.10.24+dfsg1 (API 1.41): upgrade the engine, or remove the key",
        waitsFor: []
      }
    ])
    expect(changing(p).map((a) => a.id)).toEqual([
      "local:network:shop_default",
      "local/shop/worker:create",
      "local/shop/worker:start"
    ])
  })

  it("the same spec on Docker 26 (API 1.45), or on an engine of unknown version, is created as usual", () => {
    const d = desired([app("shop", { web: startInterval })])
    for (const host of [onEngine(docker26), onEngine({})]) {
      const p = plan(d, { now: T0, hosts: [host] }, policy())
      expect(p.actions.map((a) => a._tag)).toEqual(["ensure-network", "create", "start"])
    }
  })

  it("on two hosts, only the host with the old engine skips the service", () => {
    const d = desired([app("shop", { web: startInterval }, { hosts: ["a", "b"] })], {
      hosts: [{ name: "a" }, { name: "b" }]
    })
    const p = plan(d, { now: T0, hosts: [onEngine(docker20, "a"), onEngine(docker26, "b")] }, policy())
    expect(p.actions.filter((a) => a._tag === "skip").map((a) => a.id)).toEqual(["a/shop/web:skip"])
    expect(changing(p).map((a) => a.id)).toContain("b/shop/web:create")
  })

  it("a dependent of the skipped service waits with the reason; a running container of the old spec is not replaced", () => {
    const v1 = desired([
      app("shop", {
        web: plain,
        api: svc("moor-fixture/app:1", { dependsOn: { web: { condition: "service_healthy" } } })
      })
    ])
    const running = deployed(v1, { images: ["moor-fixture/app:1"] })
    const old: typeof running = {
      ...running,
      hosts: running.hosts.map((h) => (h._tag === "Known" ? { ...h, ...docker20 } : h))
    }
    const v2 = desired([
      app("shop", {
        web: startInterval,
        api: svc("moor-fixture/app:2", { dependsOn: { web: { condition: "service_healthy" } } })
      })
    ])
    const p = plan(v2, old, policy())
    expect(changing(p)).toEqual([])
    const reasons = Object.fromEntries(p.actions.filter((a) => a._tag === "skip").map((a) => [a.id, a.reason]))
    expect(reasons["local/shop/web:skip"]).toContain("healthcheck.start_interval needs Docker Engine API 1.44")
    expect(reasons["local/shop/api:skip"]).toMatch(
      /^depends on web: shop\/web is not ready \(healthcheck.start_interval needs/
    )
  })

  it("every key an engine lacks is named; without the engine's release the API version still is", () => {
    // The mount model gains `subpath` with its loader support; the check reads it already.
    const config = containerConfig(app("a", { s: startInterval }), "s", startInterval)
    const both = {
      ...config,
      mounts: [{ type: "volume", source: "a_data", target: "/data", readOnly: false, subpath: "a/b" }]
    } as unknown as ContainerConfig
    const none = containerConfig(app("a", { s: plain }), "s", plain)
    expect(usedFeatures(both).map((f) => f.key)).toEqual(["healthcheck.start_interval", "volume.subpath"])
    expect(engineCannotExpress(both, { host: "h", apiVersion: "1.44" })).toBe(
      "volume.subpath needs Docker Engine API 1.45 (Docker 26) or newer; host h runs an engine with API 1.44: upgrade the engine, or remove the key"
    )
    expect(engineCannotExpress(both, { host: "h", engineVersion: "20.10.24", apiVersion: "1.41" })).toBe(
      "healthcheck.start_interval needs Docker Engine API 1.44 (Docker 25) or newer, volume.subpath needs Docker Engine API 1.45 (Docker 26) or newer; host h runs Docker 20.10.24 (API 1.41): upgrade the engine, or remove these keys"
    )
    expect(engineCannotExpress(both, { host: "h", apiVersion: "1.52" })).toBeUndefined()
    expect(engineCannotExpress(none, { host: "h", apiVersion: "1.41" })).toBeUndefined()
  })

  it("a key is one line in a table: another table's key is checked like the built-in ones", () => {
    const table: FeatureTable = { init: { minApi: "1.99", uses: (c) => c.init === true } }
    const s = svc("moor-fixture/app:1", { init: true })
    expect(
      engineCannotExpress(containerConfig(app("a", { s }), "s", s), { host: "h", apiVersion: "1.52" }, [
        SERVICE_MIN_API,
        table
      ])
    ).toBe(
      "init needs Docker Engine API 1.99 or newer; host h runs an engine with API 1.52: upgrade the engine, or remove the key"
    )
  })

  it("API versions compare by number, not as text; an unreadable version is not held against a spec", () => {
    expect(apiAtLeast("1.9", "1.41")).toBe(false)
    expect(apiAtLeast("1.100", "1.45")).toBe(true)
    expect(apiAtLeast("2.0", "1.45")).toBe(true)
    expect(apiAtLeast("1.44", "1.44")).toBe(true)
    expect(apiAtLeast("unknown", "1.45")).toBe(true)
  })
})
