/**
 * A container's engine settings in the body of `POST /containers/create` (API 1.41 names), as
 * docker compose maps them; nothing added for a container without settings.
 */
import { describe, expect, it } from "vitest"
import { createBody } from "../../adapters/docker/create-body.ts"
import { pullQuery } from "../../adapters/docker/live.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"

const base: ContainerConfig = {
  name: "shop-web-1",
  image: "moor-fixture/app:1",
  env: [],
  labels: {},
  ports: [{ target: 8080, protocol: "tcp" }],
  mounts: [],
  networks: [
    { name: "shop_default", aliases: ["web"] },
    { name: "shop_back", aliases: ["web"] }
  ]
}

describe("create body: engine settings", () => {
  it("a container without settings gets exactly the body it had before", () => {
    const { body, connect, query } = createBody(base)
    expect(body).toEqual({
      Image: "moor-fixture/app:1",
      Env: [],
      Labels: {},
      ExposedPorts: { "8080/tcp": {} },
      HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "", HostPort: "" }] }, NetworkMode: "shop_default" },
      NetworkingConfig: { EndpointsConfig: { shop_default: { Aliases: ["web"] } } }
    })
    expect(connect).toEqual([{ network: "shop_back", endpoint: { Aliases: ["web"] } }])
    expect(query).toEqual({})
  })

  it("every setting lands in its engine field", () => {
    const { body, connect, query } = createBody({
      ...base,
      options: {
        expose: ["9000/tcp", "9100-9101/udp", "8080/tcp"],
        links: ["shop-db-1:database"],
        externalLinks: ["redis:cache"],
        dns: ["1.1.1.1"],
        dnsOpt: ["ndots:2"],
        dnsSearch: ["example.com"],
        sysctls: { "net.core.somaxconn": "1024" },
        ulimits: { nofile: { soft: 1024, hard: 2048 } },
        logging: { driver: "json-file", options: { "max-size": "10m" } },
        securityOpt: ["no-new-privileges:true"],
        privileged: true,
        devices: [{ source: "/dev/null", target: "/dev/mynull", permissions: "rwm" }],
        deviceCgroupRules: ["c 1:3 mr"],
        groupAdd: ["100"],
        ipc: "container:shop-db-1",
        pid: "host",
        uts: "host",
        usernsMode: "host",
        cgroup: "private",
        cgroupParent: "/moor",
        shmSize: 134217728,
        tty: true,
        stdinOpen: true,
        macAddress: "02:42:ac:11:00:99",
        domainname: "example.org",
        platform: "linux/amd64",
        runtime: "runc",
        isolation: "process",
        storageOpt: { size: "1G" },
        oomKillDisable: true,
        oomScoreAdj: 100,
        memSwappiness: 10,
        memswapLimit: -1,
        cpuCount: 2,
        cpuPercent: 50,
        cpuShares: 512,
        cpuQuota: 50000,
        cpuPeriod: 100000,
        cpuRtPeriod: 1000000,
        cpuRtRuntime: 950000,
        cpuset: "0-1",
        blkioConfig: {
          weight: 300,
          weightDevice: [{ path: "/dev/vda", weight: 200 }],
          deviceReadBps: [{ path: "/dev/vda", rate: 1048576 }],
          deviceReadIops: [{ path: "/dev/vda", rate: 100 }],
          deviceWriteBps: [{ path: "/dev/vda", rate: 2097152 }],
          deviceWriteIops: [{ path: "/dev/vda", rate: 200 }]
        },
        annotations: { "com.example.note": "x" },
        volumesFrom: ["shop-db-1:ro"],
        useApiSocket: true
      }
    })
    expect(body).toMatchObject({
      Tty: true,
      OpenStdin: true,
      MacAddress: "02:42:ac:11:00:99",
      Domainname: "example.org",
      ExposedPorts: { "8080/tcp": {}, "9000/tcp": {}, "9100/udp": {}, "9101/udp": {} }
    })
    expect(body.HostConfig).toEqual({
      PortBindings: { "8080/tcp": [{ HostIp: "", HostPort: "" }] },
      NetworkMode: "shop_default",
      Links: ["shop-db-1:database", "redis:cache"],
      Dns: ["1.1.1.1"],
      DnsOptions: ["ndots:2"],
      DnsSearch: ["example.com"],
      Sysctls: { "net.core.somaxconn": "1024" },
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      LogConfig: { Type: "json-file", Config: { "max-size": "10m" } },
      SecurityOpt: ["no-new-privileges:true"],
      Privileged: true,
      Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rwm" }],
      DeviceCgroupRules: ["c 1:3 mr"],
      GroupAdd: ["100"],
      IpcMode: "container:shop-db-1",
      PidMode: "host",
      UTSMode: "host",
      UsernsMode: "host",
      CgroupnsMode: "private",
      CgroupParent: "/moor",
      ShmSize: 134217728,
      Runtime: "runc",
      Isolation: "process",
      StorageOpt: { size: "1G" },
      OomKillDisable: true,
      OomScoreAdj: 100,
      MemorySwappiness: 10,
      MemorySwap: -1,
      CpuCount: 2,
      CpuPercent: 50,
      CpuShares: 512,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      CpuRealtimePeriod: 1000000,
      CpuRealtimeRuntime: 950000,
      CpusetCpus: "0-1",
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: "/dev/vda", Weight: 200 }],
      BlkioDeviceReadBps: [{ Path: "/dev/vda", Rate: 1048576 }],
      BlkioDeviceReadIOps: [{ Path: "/dev/vda", Rate: 100 }],
      BlkioDeviceWriteBps: [{ Path: "/dev/vda", Rate: 2097152 }],
      BlkioDeviceWriteIOps: [{ Path: "/dev/vda", Rate: 200 }],
      Annotations: { "com.example.note": "x" },
      VolumesFrom: ["shop-db-1:ro"],
      Binds: ["/var/run/docker.sock:/var/run/docker.sock"]
    })
    // On a user network the engine reads links on the endpoint: every endpoint carries them.
    expect(body.NetworkingConfig?.EndpointsConfig.shop_default).toEqual({
      Aliases: ["web"],
      Links: ["shop-db-1:database", "redis:cache"]
    })
    expect(connect[0]?.endpoint).toEqual({ Aliases: ["web"], Links: ["shop-db-1:database", "redis:cache"] })
    expect(query).toEqual({ platform: "linux/amd64" })
  })

  it("gpus ask for the gpu capability, device reservations for theirs, CDI devices go to the cdi driver", () => {
    const { body } = createBody({
      ...base,
      options: {
        devices: [
          { source: "vendor.com/gpu=0", target: "vendor.com/gpu=0", permissions: "rwm" },
          { source: "/dev/null", target: "/dev/null", permissions: "r" }
        ],
        gpus: [{ count: -1 }, { driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["compute"] }],
        reservedDevices: [{ count: 1, capabilities: ["tpu"], options: { a: "b" } }]
      }
    })
    expect(body.HostConfig.Devices).toEqual([
      { PathOnHost: "/dev/null", PathInContainer: "/dev/null", CgroupPermissions: "r" }
    ])
    expect(body.HostConfig.DeviceRequests).toEqual([
      { Driver: "cdi", Count: 0, DeviceIDs: ["vendor.com/gpu=0"], Capabilities: [], Options: {} },
      { Driver: "", Count: -1, DeviceIDs: [], Capabilities: [["gpu"]], Options: {} },
      { Driver: "nvidia", Count: 0, DeviceIDs: ["0", "1"], Capabilities: [["compute", "gpu"]], Options: {} },
      { Driver: "", Count: 1, DeviceIDs: [], Capabilities: [["tpu"]], Options: { a: "b" } }
    ])
  })

  it("systempaths=unconfined unmasks the system paths, credential specs become security options", () => {
    const { body } = createBody({
      ...base,
      options: { securityOpt: ["seccomp=unconfined", "systempaths=unconfined"], credentialSpec: { file: "spec.json" } }
    })
    expect(body.HostConfig).toMatchObject({
      SecurityOpt: ["seccomp=unconfined", "credentialspec=file://spec.json"],
      MaskedPaths: [],
      ReadonlyPaths: []
    })
  })

  it("a logging section with options only keeps the engine's default driver", () => {
    const { body } = createBody({ ...base, options: { logging: { options: { "max-size": "1m" } } } })
    expect(body.HostConfig.LogConfig).toEqual({ Type: "", Config: { "max-size": "1m" } })
  })

  it("the pull of a service's image asks for its platform", () => {
    expect(pullQuery("moor-fixture/app:1", "linux/arm64")).toEqual({
      fromImage: "moor-fixture/app",
      tag: "1",
      platform: "linux/arm64"
    })
    expect(pullQuery("redis")).toEqual({ fromImage: "redis", tag: "latest" })
  })
})
