/**
 * Mount options and network settings in the plan: options spelled at their default change nothing,
 * a changed option replaces the container and says so, the replacement strategy still protects
 * writable data and fixed addresses, networks are created as declared and a network that differs
 * from its declaration is a warning, never a silent pass or a recreation.
 */
import { describe, expect, it } from "vitest"
import { containerConfig, defaultHashAlgorithms } from "../../core/container-spec.ts"
import type { Mount, Service } from "../../core/model/desired.ts"
import type { ObservedNetwork } from "../../core/model/observed.ts"
import { plan } from "../../core/plan/plan.ts"
import { prepareApp } from "../../core/plan/prepare.ts"
import { app, changing, deployed, desired, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const images = ["moor-fixture/app:1", "moor-fixture/app:2"]
const hashOf = (s: Service) =>
  prepareApp(app("shop", { web: s }, { volumes: { data: {} } }), policy(), defaultHashAlgorithms).byName.get("web")!
    .specHash

describe("mount options and the spec hash", () => {
  it("options spelled at their default do not change the hash (nothing is recreated by an upgrade)", () => {
    const bare: Array<Mount> = [
      { type: "bind", source: "/srv/conf", target: "/conf" },
      { type: "volume", source: "data", target: "/data" },
      { type: "tmpfs", target: "/scratch" }
    ]
    const spelled: Array<Mount> = [
      { type: "bind", source: "/srv/conf", target: "/conf", createHostPath: true, propagation: "rprivate" },
      { type: "volume", source: "data", target: "/data", noCopy: false, subpath: "" },
      { type: "tmpfs", target: "/scratch", mode: 0o1777 }
    ]
    const zeroMode: Array<Mount> = [...bare.slice(0, 2), { type: "tmpfs", target: "/scratch", mode: 0 }]
    expect(hashOf(svc("moor-fixture/app:1", { mounts: zeroMode }))).toBe(
      hashOf(svc("moor-fixture/app:1", { mounts: bare }))
    )
    expect(hashOf(svc("moor-fixture/app:1", { mounts: spelled }))).toBe(
      hashOf(svc("moor-fixture/app:1", { mounts: bare }))
    )
    const a = app("shop", { web: svc("moor-fixture/app:1", { mounts: spelled }) }, { volumes: { data: {} } })
    expect(JSON.stringify(containerConfig(a, "web", a.services.web!).mounts)).toBe(
      '[{"type":"bind","source":"/srv/conf","target":"/conf","readOnly":false},{"type":"volume","source":"shop_data","target":"/data","readOnly":false},{"type":"tmpfs","target":"/scratch","readOnly":false}]'
    )
  })

  it.each<[string, Mount]>([
    ["create_host_path false", { type: "bind", source: "/srv/conf", target: "/conf", createHostPath: false }],
    ["propagation", { type: "bind", source: "/srv/conf", target: "/conf", propagation: "rslave" }],
    ["selinux", { type: "bind", source: "/srv/conf", target: "/conf", selinux: "z" }],
    ["nocopy", { type: "volume", source: "data", target: "/conf", noCopy: true }],
    ["subpath", { type: "volume", source: "data", target: "/conf", subpath: "conf" }],
    ["tmpfs size", { type: "tmpfs", target: "/conf", sizeBytes: 1024 }],
    ["tmpfs mode", { type: "tmpfs", target: "/conf", mode: 0o700 }]
  ])("%s is part of the container's spec", (_, mount) => {
    const { createHostPath, propagation, selinux, noCopy, subpath, sizeBytes, mode, ...plain } = mount
    expect({ createHostPath, propagation, selinux, noCopy, subpath, sizeBytes, mode }).not.toEqual({})
    expect(hashOf(svc("moor-fixture/app:1", { mounts: [mount] }))).not.toBe(
      hashOf(svc("moor-fixture/app:1", { mounts: [plain] }))
    )
  })

  it("changing a mount option replaces the container, and the reason names the mounts", () => {
    const before = desired([
      app("shop", { web: svc("moor-fixture/app:1", { mounts: [{ type: "tmpfs", target: "/scratch" }] }) })
    ])
    const after = desired([
      app("shop", {
        web: svc("moor-fixture/app:1", { mounts: [{ type: "tmpfs", target: "/scratch", sizeBytes: 1 << 20 }] })
      })
    ])
    const [recreate] = changing(plan(after, deployed(before, { images }), policy()))
    expect(recreate).toMatchObject({ _tag: "recreate", reason: "volumes changed", changes: ["volumes changed"] })
  })
})

describe("replacement strategy with the new mount and network forms", () => {
  const strategyOf = (extra: Partial<Service>) => {
    const v1 = desired([app("shop", { web: svc("moor-fixture/app:1", extra) }, { volumes: { data: {} } })])
    const v2 = desired([app("shop", { web: svc("moor-fixture/app:2", extra) }, { volumes: { data: {} } })])
    const r = plan(v2, deployed(v1, { images }), policy()).actions.find((a) => a._tag === "recreate")
    return r?._tag === "recreate" ? r.strategy : undefined
  }
  it.each<[string, Partial<Service>, string]>([
    [
      "a writable bind with options",
      { mounts: [{ type: "bind", source: "/srv/x", target: "/x", createHostPath: false, propagation: "rshared" }] },
      "stop-first"
    ],
    [
      "a writable volume subpath",
      { mounts: [{ type: "volume", source: "data", target: "/x", subpath: "a" }] },
      "stop-first"
    ],
    [
      "a read-only volume subpath",
      { mounts: [{ type: "volume", source: "data", target: "/x", subpath: "a", readOnly: true }] },
      "start-first"
    ],
    ["a sized tmpfs", { mounts: [{ type: "tmpfs", target: "/x", sizeBytes: 1024, mode: 0o700 }] }, "start-first"],
    ["a fixed IPv6 address", { networks: { default: { ipv6Address: "fd00::10" } } }, "stop-first"],
    ["a fixed MAC address", { networks: { default: { macAddress: "02:42:ac:11:00:02" } } }, "stop-first"],
    ["fixed link-local addresses", { networks: { default: { linkLocalIps: ["169.254.8.8"] } } }, "stop-first"],
    ["only endpoint driver options", { networks: { default: { driverOpts: { a: "b" } } } }, "start-first"]
  ])("%s: %s", (_, extra, strategy) => {
    expect(strategyOf(extra)).toBe(strategy)
  })
})

describe("network attachments", () => {
  it("networks are joined by priority, highest first (the first is the primary), then by name", () => {
    const a = app(
      "shop",
      {
        web: svc("moor-fixture/app:1", {
          networks: { a: {}, b: { priority: 10 }, c: { priority: 10 }, d: { priority: -1 }, e: {} }
        })
      },
      { networks: { a: {}, b: {}, c: {}, d: {}, e: {} } }
    )
    expect(containerConfig(a, "web", a.services.web!).networks.map((n) => n.name)).toEqual([
      "shop_b",
      "shop_c",
      "shop_a",
      "shop_e",
      "shop_d"
    ])
  })

  it("endpoint settings go into the container's spec, defaults left out", () => {
    const a = app("shop", {
      web: svc("moor-fixture/app:1", {
        networks: {
          default: {
            ipv6Address: "fd00::10",
            linkLocalIps: ["169.254.8.9", "169.254.8.8"],
            macAddress: "02:42:ac:11:00:02",
            driverOpts: { z: "1", a: "2" },
            gwPriority: 0,
            interfaceName: "eth7"
          }
        }
      })
    })
    expect(JSON.stringify(containerConfig(a, "web", a.services.web!).networks)).toBe(
      '[{"name":"shop_default","aliases":["web"],"ipv6Address":"fd00::10","linkLocalIps":["169.254.8.8","169.254.8.9"],"macAddress":"02:42:ac:11:00:02","driverOpts":{"a":"2","z":"1"},"interfaceName":"eth7"}]'
    )
  })
})

describe("top-level networks", () => {
  const declared = {
    driver: "bridge",
    driverOpts: { "com.docker.network.bridge.enable_icc": "true" },
    ipam: { config: [{ subnet: "172.31.9.0/24", gateway: "172.31.9.1" }] },
    attachable: true,
    enableIpv6: false
  }
  const d = desired([
    app("shop", { web: svc("moor-fixture/app:1", { networks: { back: {} } }) }, { networks: { back: declared } })
  ])
  const withNetwork = (n: Partial<ObservedNetwork>) => {
    const host = emptyHost("local", images)
    return observedOf([{ ...host, networks: [{ name: "shop_back", id: "n1", labels: {}, ...n }] }])
  }

  it("a missing network is created with everything declared", () => {
    const ensure = plan(d, observedOf([emptyHost("local", images)]), policy()).actions.find(
      (a) => a._tag === "ensure-network"
    )
    expect(ensure).toMatchObject({
      _tag: "ensure-network",
      network: {
        name: "shop_back",
        driver: "bridge",
        driverOpts: { "com.docker.network.bridge.enable_icc": "true" },
        ipam: { config: [{ subnet: "172.31.9.0/24", gateway: "172.31.9.1" }] },
        attachable: true,
        enableIpv6: false,
        labels: { "moor.scope": "test", "moor.app": "shop" }
      }
    })
  })

  it("a network that exists as declared gives no warning", () => {
    const p = plan(
      d,
      withNetwork({
        driver: "bridge",
        internal: false,
        attachable: true,
        enableIpv6: false,
        options: { "com.docker.network.bridge.enable_icc": "true" },
        ipam: { driver: "default", config: [{ subnet: "172.31.9.0/24", gateway: "172.31.9.1" }] }
      }),
      policy()
    )
    expect(p.warnings).toEqual([])
  })

  it("a network that exists with other settings is a warning naming each difference and what to do; it is not recreated", () => {
    const p = plan(
      d,
      withNetwork({
        driver: "bridge",
        internal: false,
        attachable: false,
        enableIpv6: false,
        options: {},
        ipam: { driver: "default", config: [{ subnet: "172.18.0.0/16", gateway: "172.18.0.1" }] }
      }),
      policy()
    )
    expect(p.warnings).toEqual([
      "network shop_back on host local differs from the spec of shop (attachable false -> true, driver_opts com.docker.network.bridge.enable_icc (none) -> true, ipam subnet 172.31.9.0/24 missing): moor does not recreate a network, which would detach every container on it; to apply the spec, remove the network when no container uses it (moor down shop removes the app's containers and networks) and apply again"
    ])
    expect(p.actions.some((a) => a._tag === "ensure-network" || a._tag === "remove-network")).toBe(false)
  })

  it("a network whose settings the observation does not report is not compared; an external one never", () => {
    expect(plan(d, withNetwork({}), policy()).warnings).toEqual([])
    const ext = desired([
      app(
        "shop",
        { web: svc("moor-fixture/app:1", { networks: { back: {} } }) },
        {
          networks: { back: { ...declared, external: true, name: "shop_back" } }
        }
      )
    ])
    expect(plan(ext, withNetwork({ attachable: false, driver: "overlay" }), policy()).warnings).toEqual([])
  })
})
