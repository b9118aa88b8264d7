/**
 * A service's engine settings in its container's spec: canonical (order and spelled-out defaults do
 * not change the hash), references to services resolved to container names, one digest per key so a
 * replacement names the key that changed, and nothing changes for a service without them.
 */
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { containerOptions, OPTION_KEYS, OPTION_MIN_API } from "../../core/container-options.ts"
import { containerConfig, defaultHashAlgorithms, describeChanges, fieldDigests } from "../../core/container-spec.ts"
import { decodeDesired } from "../../core/decode.ts"
import type { ContainerOptions } from "../../core/model/options.ts"
import { plan } from "../../core/plan/plan.ts"
import { prepareApp } from "../../core/plan/prepare.ts"
import { app, deployed, desired, policy, svc } from "../support/core-fixtures.ts"

const specHash = (options: ContainerOptions | undefined, extra: Parameters<typeof app>[2] = {}) =>
  prepareApp(
    app("shop", { db: svc(), web: svc("moor-fixture/app:1", options === undefined ? {} : { options }) }, extra),
    policy(),
    defaultHashAlgorithms
  ).byName.get("web")!.specHash
const resolved = (options: ContainerOptions, services: Parameters<typeof app>[1] = { db: svc() }) => {
  const a = app("shop", { ...services, web: svc("moor-fixture/app:1", { options }) })
  return containerConfig(a, "web", a.services.web!).options
}

const FULL: ContainerOptions = {
  expose: ["9000", "9100-9101/udp"],
  links: ["db:database"],
  externalLinks: ["other"],
  dns: ["9.9.9.9", "1.1.1.1"],
  dnsOpt: ["ndots:2", "timeout:1"],
  dnsSearch: ["b.example", "a.example"],
  sysctls: { "net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "0" },
  ulimits: { nproc: { soft: 512, hard: 512 }, nofile: { soft: 1024, hard: 2048 } },
  logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } },
  securityOpt: ["no-new-privileges:true", "apparmor=unconfined"],
  privileged: true,
  devices: [
    { source: "/dev/zero", target: "/dev/myzero", permissions: "rwm" },
    { source: "/dev/null", target: "/dev/mynull", permissions: "r" }
  ],
  deviceCgroupRules: ["c 1:3 mr", "a *:* r"],
  groupAdd: ["audio", "100"],
  ipc: "service:db",
  pid: "host",
  shmSize: 1 << 27,
  tty: true,
  stdinOpen: true,
  macAddress: "02:42:AC:11:00:99",
  domainname: "example.org",
  platform: "linux/amd64",
  oomScoreAdj: 100,
  memSwappiness: 10,
  memswapLimit: -1,
  cpuShares: 512,
  blkioConfig: {
    weight: 300,
    deviceReadBps: [
      { path: "/dev/vdb", rate: 1 },
      { path: "/dev/vda", rate: 2 }
    ]
  },
  gpus: [{ count: -1 }, { deviceIds: ["1", "0"], capabilities: ["utility", "compute"] }],
  annotations: { b: "2", a: "1" },
  volumesFrom: ["db:ro", "container:legacy"]
}

/** The same settings written in another order, with their defaults spelled out. */
const SHUFFLED: ContainerOptions = {
  volumesFrom: ["db:ro", "container:legacy:rw"],
  annotations: { a: "1", b: "2" },
  gpus: [{ capabilities: ["compute", "utility"], deviceIds: ["0", "1"] }, { count: -1 }],
  blkioConfig: {
    deviceReadBps: [
      { path: "/dev/vda", rate: 2 },
      { path: "/dev/vdb", rate: 1 }
    ],
    weight: 300,
    weightDevice: []
  },
  cpuShares: 512,
  cpuQuota: 0,
  memswapLimit: -1,
  memSwappiness: 10,
  oomScoreAdj: 100,
  oomKillDisable: false,
  isolation: "default",
  platform: "LINUX/AMD64",
  domainname: "example.org",
  macAddress: "02:42:ac:11:00:99",
  stdinOpen: true,
  tty: true,
  shmSize: 1 << 27,
  pid: "host",
  ipc: "service:db",
  groupAdd: ["100", "audio", "100"],
  deviceCgroupRules: ["a *:* r", "c 1:3 mr"],
  devices: [
    { source: "/dev/null", target: "/dev/mynull", permissions: "r" },
    { source: "/dev/zero", target: "/dev/myzero", permissions: "rwm" }
  ],
  privileged: true,
  useApiSocket: false,
  securityOpt: ["apparmor=unconfined", "no-new-privileges:true"],
  logging: { options: { "max-file": "3", "max-size": "10m" }, driver: "json-file" },
  ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } },
  sysctls: { "net.ipv4.tcp_syncookies": "0", "net.core.somaxconn": "1024" },
  dnsSearch: ["b.example", "a.example"],
  dnsOpt: ["timeout:1", "ndots:2"],
  dns: ["9.9.9.9", "1.1.1.1", "9.9.9.9"],
  externalLinks: ["other:other"],
  links: ["db:database", "db:database"],
  expose: ["9100-9101/udp", "9000/tcp"]
}

describe("engine settings in the spec hash", () => {
  it("key order, the order of orderless lists and maps, and spelled-out defaults do not change the hash", () => {
    expect(specHash(SHUFFLED)).toBe(specHash(FULL))
  })

  it("settings that only spell out defaults leave the container exactly as without them", () => {
    const defaults: ContainerOptions = {
      privileged: false,
      tty: false,
      stdinOpen: false,
      oomKillDisable: false,
      useApiSocket: false,
      oomScoreAdj: 0,
      shmSize: 0,
      cpuShares: 0,
      isolation: "default",
      logging: {},
      sysctls: {},
      dns: [],
      blkioConfig: { weightDevice: [] }
    }
    expect(specHash(defaults)).toBe(specHash(undefined))
    const a = app("shop", { web: svc("moor-fixture/app:1", { options: defaults }) })
    expect(JSON.stringify(containerConfig(a, "web", a.services.web!))).not.toContain("options")
  })

  it("the order of DNS servers, search domains and volumes_from is kept: it changes what the container does", () => {
    expect(specHash({ dns: ["1.1.1.1", "9.9.9.9"] })).not.toBe(specHash({ dns: ["9.9.9.9", "1.1.1.1"] }))
    expect(specHash({ dnsSearch: ["a", "b"] })).not.toBe(specHash({ dnsSearch: ["b", "a"] }))
    expect(specHash({ volumesFrom: ["db", "container:x"] })).not.toBe(specHash({ volumesFrom: ["container:x", "db"] }))
  })

  it("property: shuffling orderless lists and maps never changes the hash", () => {
    const list = fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e"), { minLength: 1 })
    fc.assert(
      fc.property(list, fc.dictionary(fc.constantFrom("x.a", "x.b", "x.c"), fc.constantFrom("0", "1")), (xs, map) => {
        const reversed = Object.fromEntries(Object.entries(map).reverse())
        const a = { securityOpt: xs, groupAdd: xs, dnsOpt: xs, sysctls: map, annotations: map }
        const b = {
          securityOpt: [...xs].reverse(),
          groupAdd: [...xs, ...xs],
          dnsOpt: [...xs].sort(),
          sysctls: reversed,
          annotations: reversed
        }
        expect(specHash(b)).toBe(specHash(a))
      })
    )
  })
})

describe("references to services become container names", () => {
  it("links, volumes_from, ipc and pid name the service's container", () => {
    expect(
      resolved(
        {
          links: ["db:database", "cache"],
          volumesFrom: ["db:ro", "cache:rw", "container:legacy:ro"],
          ipc: "service:db",
          pid: "service:cache"
        },
        { db: svc(), cache: svc() }
      )
    ).toEqual({
      links: ["shop-cache-1:cache", "shop-db-1:database"],
      ipc: "container:shop-db-1",
      pid: "container:shop-cache-1",
      volumesFrom: ["shop-db-1:ro", "shop-cache-1", "legacy:ro"]
    })
  })

  it("a service with a fixed container name is referred to by that name", () => {
    expect(
      resolved({ ipc: "service:db", links: ["db"] }, { db: svc("moor-fixture/app:1", { containerName: "the-db" }) })
    ).toEqual({
      links: ["the-db:db"],
      ipc: "container:the-db"
    })
  })

  it("container: references and other modes stay as written", () => {
    expect(resolved({ ipc: "shareable", pid: "container:other", externalLinks: ["redis"] })).toEqual({
      externalLinks: ["redis:redis"],
      ipc: "shareable",
      pid: "container:other"
    })
  })

  it("a device request naming neither a count nor devices asks for all of them, as in Compose", () => {
    expect(
      containerOptions(app("shop", {}), { gpus: [{ driver: "nvidia" }], reservedDevices: [{ capabilities: ["gpu"] }] })
    ).toEqual({
      gpus: [{ driver: "nvidia", count: -1 }],
      reservedDevices: [{ count: -1, capabilities: ["gpu"] }]
    })
  })
})

describe("a replacement names the key that changed", () => {
  const digests = (options: ContainerOptions | undefined) => {
    const a = app("shop", { web: svc("moor-fixture/app:1", options === undefined ? {} : { options }) })
    return fieldDigests({ config: containerConfig(a, "web", a.services.web!), configDigests: {} })
  }
  const img = "moor-fixture/app:1"

  it("one digest per setting, keyed by its Compose key", () => {
    expect(Object.keys(digests({ sysctls: { a: "1" }, reservedDevices: [{ count: 1 }], tty: true })).sort()).toEqual([
      "image",
      "networks",
      "option.deploy.resources.reservations.devices",
      "option.sysctls",
      "option.tty"
    ])
  })

  it("changed, added and removed settings are named by their Compose keys, and nothing else is", () => {
    const before = digests({ sysctls: { a: "1" }, privileged: true, ulimits: { nofile: { soft: 1, hard: 1 } } })
    const after = digests({
      sysctls: { a: "2" },
      logging: { driver: "local" },
      ulimits: { nofile: { soft: 1, hard: 1 } }
    })
    expect(describeChanges(img, img, before, after)).toEqual(["logging added", "privileged removed", "sysctls changed"])
  })

  it("the plan replaces a container whose settings changed, with the key in its reason", () => {
    const d1 = desired([app("shop", { web: svc(img, { options: { dns: ["1.1.1.1"], shmSize: 1 << 26 } }) })])
    const d2 = desired([app("shop", { web: svc(img, { options: { dns: ["9.9.9.9"], shmSize: 1 << 26 } }) })])
    const p = plan(d2, deployed(d1, { images: [img] }), policy())
    const recreate = p.actions.find((a) => a._tag === "recreate")
    expect(recreate?._tag === "recreate" ? recreate.changes : []).toEqual(["dns changed"])
    expect(plan(d1, deployed(d1, { images: [img] }), policy()).actions.filter((a) => a._tag !== "skip")).toEqual([])
  })

  it("a platform goes with the pull of the service's image", () => {
    const d = desired([app("shop", { web: svc("moor-fixture/app:9", { options: { platform: "linux/arm64" } }) })])
    const pull = plan(d, deployed(desired([]), { images: [] }), policy()).actions.find((a) => a._tag === "pull-image")
    expect(pull?._tag === "pull-image" ? pull.platform : undefined).toBe("linux/arm64")
  })
})

describe("the engine API each setting needs", () => {
  it("names Compose keys, and annotations need API 1.43", () => {
    const keys = new Set(Object.values(OPTION_KEYS))
    for (const key of Object.keys(OPTION_MIN_API)) expect(keys.has(key)).toBe(true)
    expect(OPTION_MIN_API.annotations).toBe("1.43")
  })
})

describe("a desired state given directly (not from a Compose file)", () => {
  it("is refused when its settings name a service the app does not have, or the service itself", () => {
    const d = decodeDesired({
      scope: "s",
      apps: [{ name: "shop", services: { web: { image: "x", options: { links: ["db"], ipc: "service:web" } } } }]
    })
    expect(Result.isSuccess(d) ? d.success.invalid.map((i) => i.message) : d.failure).toEqual([
      "services.web.links: service db is not defined in app shop\nservices.web.ipc: a service cannot name itself"
    ])
  })
})
