/**
 * The engine-setting keys of Compose (issue 11) end to end, on each engine of ENGINES: after
 * `moor apply`, `docker inspect` shows every setting; changing them replaces the container with a
 * reason naming each key, the new container shows the new settings, and a second plan is empty.
 * Keys are grouped (one apply per group). Keys an engine cannot run here (privileged in this
 * sandbox, real-time CPU, GPUs) are created from the plan's own config and inspected, not started.
 * Keys that need a newer API than an engine's (OPTION_MIN_API) are left out on that engine.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Dockerode from "dockerode"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DockerLive } from "../../adapters/docker/live.ts"
import { OPTION_MIN_API } from "../../core/container-options.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { requireFixtures, testEngineA, testEngineCurrent } from "../support/docker-e2e.ts"
import { engineA, engineCurrent } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { cleanupEngine } from "../support/fleet-engines.ts"
import { moorYaml } from "../support/fleet-spec.ts"

interface Engine {
  readonly name: string
  /** `unix:///...`: how moor (moor.yaml) and the test (dockerode) reach it. */
  readonly endpoint: string
  /** Its Engine API version: keys needing more are not asked of it. */
  readonly api: string
}

/** The engines this file runs on; a newer engine (Docker 26) joins this list. */
const ENGINES: ReadonlyArray<Engine> = [
  { name: "engine A (Docker 20.10)", endpoint: engineA.DOCKER_HOST, api: "1.41" },
  { name: "the current engine (Docker 26)", endpoint: engineCurrent.socket.DOCKER_HOST, api: "1.45" }
]

type Inspect = {
  readonly Config: Record<string, unknown> & { readonly Labels: Record<string, string> }
  readonly HostConfig: Record<string, unknown>
  readonly NetworkSettings: {
    readonly Networks: Record<string, { readonly Links: unknown; readonly MacAddress: string }>
  }
  readonly Platform: string
}

/** One key: its lines under the service before and after the change, and what inspect shows of each. */
interface KeyCase {
  readonly key: string
  readonly v1: string
  readonly v2: string
  readonly shows: (c: Inspect, version: 1 | 2, ctx: { readonly app: string }) => void
}

const apiAtLeast = (have: string, need: string): boolean => {
  const [a = 0, b = 0] = have.split(".").map(Number)
  const [c = 0, d = 0] = need.split(".").map(Number)
  return a > c || (a === c && b >= d)
}

const hex = (n: number) => randomBytes(n).toString("hex")
const mac = (last: string) => `02:42:${hex(3).match(/../g)!.join(":")}:${last}`
const platform = `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`

/** A block device of this machine (blkio limits need a whole disk, not a partition). */
const blockDevice = (): string => {
  const disk = readdirSync("/sys/block").find((d) => !/^(loop|ram|zram|nbd|dm-|sr)/.test(d))
  if (disk === undefined) throw new Error("no block device in /sys/block: the blkio_config case needs one")
  return `/dev/${disk}`
}

/** Links, namespaces and names: the web service refers to db. */
const naming = (macs: readonly [string, string]): ReadonlyArray<KeyCase> => [
  {
    key: "expose",
    v1: "expose: [9000]",
    v2: "expose: [9001/udp]",
    shows: (c, v) => expect(Object.keys(c.Config.ExposedPorts as object)).toContain(v === 1 ? "9000/tcp" : "9001/udp")
  },
  {
    key: "links",
    v1: "links: ['db:database']",
    v2: "links: ['db:store']",
    shows: (c, v, { app }) =>
      expect(c.NetworkSettings.Networks[`${app}_default`]?.Links).toContain(
        `${app}-db-1:${v === 1 ? "database" : "store"}`
      )
  },
  {
    key: "external_links",
    v1: "external_links: ['{app}-db-1:legacy']",
    v2: "external_links: ['{app}-db-1:older']",
    shows: (c, v, { app }) =>
      expect(c.NetworkSettings.Networks[`${app}_default`]?.Links).toContain(
        `${app}-db-1:${v === 1 ? "legacy" : "older"}`
      )
  },
  {
    key: "dns",
    v1: "dns: 1.1.1.1",
    v2: "dns: [9.9.9.9, 1.1.1.1]",
    shows: (c, v) => expect(c.HostConfig.Dns).toEqual(v === 1 ? ["1.1.1.1"] : ["9.9.9.9", "1.1.1.1"])
  },
  {
    key: "dns_opt",
    v1: "dns_opt: [ndots:2]",
    v2: "dns_opt: [ndots:3]",
    shows: (c, v) => expect(c.HostConfig.DnsOptions).toEqual([`ndots:${v + 1}`])
  },
  {
    key: "dns_search",
    v1: "dns_search: a.example",
    v2: "dns_search: [b.example]",
    shows: (c, v) => expect(c.HostConfig.DnsSearch).toEqual([v === 1 ? "a.example" : "b.example"])
  },
  {
    key: "mac_address",
    v1: `mac_address: ${macs[0]}`,
    v2: `mac_address: ${macs[1]}`,
    shows: (c, v, { app }) => expect(c.NetworkSettings.Networks[`${app}_default`]?.MacAddress).toBe(macs[v - 1])
  },
  {
    key: "domainname",
    v1: "domainname: example.org",
    v2: "domainname: example.net",
    shows: (c, v) => expect(c.Config.Domainname).toBe(v === 1 ? "example.org" : "example.net")
  },
  {
    key: "ipc",
    v1: "ipc: service:db",
    v2: "ipc: shareable",
    shows: (c, v) => expect(c.HostConfig.IpcMode).toMatch(v === 1 ? /^container:/ : /^shareable$/)
  },
  {
    key: "pid",
    v1: "pid: service:db",
    v2: "pid: host",
    shows: (c, v) => expect(c.HostConfig.PidMode).toMatch(v === 1 ? /^container:/ : /^host$/)
  },
  {
    key: "volumes_from",
    v1: "volumes_from: ['db:ro']",
    v2: "volumes_from: [db]",
    shows: (c, v, { app }) => expect(c.HostConfig.VolumesFrom).toEqual([`${app}-db-1${v === 1 ? ":ro" : ""}`])
  },
  {
    key: "platform",
    v1: `platform: ${platform}`,
    v2: "platform: linux",
    shows: (c) => expect(c.Platform).toBe("linux")
  },
  {
    key: "annotations",
    v1: "annotations: { com.example.note: one }",
    v2: "annotations: [com.example.note=two]",
    shows: (c, v) => expect(c.HostConfig.Annotations).toEqual({ "com.example.note": v === 1 ? "one" : "two" })
  }
]

/** Kernel settings, limits, devices and logging on one service. */
const limits = (disk: string): ReadonlyArray<KeyCase> => [
  {
    key: "sysctls",
    v1: "sysctls: { net.ipv4.ip_unprivileged_port_start: 80 }",
    v2: "sysctls: [net.ipv4.ip_unprivileged_port_start=81]",
    shows: (c, v) => expect(c.HostConfig.Sysctls).toEqual({ "net.ipv4.ip_unprivileged_port_start": String(79 + v) })
  },
  {
    key: "ulimits",
    v1: "ulimits: { nofile: { soft: 1024, hard: 2048 } }",
    v2: "ulimits: { nofile: 4096 }",
    shows: (c, v) =>
      expect(c.HostConfig.Ulimits).toEqual([
        v === 1 ? { Name: "nofile", Soft: 1024, Hard: 2048 } : { Name: "nofile", Soft: 4096, Hard: 4096 }
      ])
  },
  {
    key: "logging",
    v1: "logging: { driver: json-file, options: { max-size: 10m } }",
    v2: "logging: { driver: json-file, options: { max-size: 20m, max-file: 2 } }",
    shows: (c, v) =>
      expect(c.HostConfig.LogConfig).toEqual({
        Type: "json-file",
        Config: v === 1 ? { "max-size": "10m" } : { "max-size": "20m", "max-file": "2" }
      })
  },
  {
    key: "security_opt",
    v1: "security_opt: [no-new-privileges:true]",
    v2: "security_opt: [no-new-privileges:true, seccomp=unconfined]",
    shows: (c, v) =>
      expect(c.HostConfig.SecurityOpt).toEqual(
        v === 1 ? ["no-new-privileges:true"] : ["no-new-privileges:true", "seccomp=unconfined"]
      )
  },
  {
    key: "shm_size",
    v1: "shm_size: 128m",
    v2: "shm_size: 256mb",
    shows: (c, v) => expect(c.HostConfig.ShmSize).toBe(v * 134217728)
  },
  { key: "tty", v1: "tty: true", v2: "tty: false", shows: (c, v) => expect(c.Config.Tty).toBe(v === 1) },
  {
    key: "stdin_open",
    v1: "stdin_open: true",
    v2: "stdin_open: false",
    shows: (c, v) => expect(c.Config.OpenStdin).toBe(v === 1)
  },
  {
    key: "group_add",
    v1: "group_add: [100]",
    v2: "group_add: [101]",
    shows: (c, v) => expect(c.HostConfig.GroupAdd).toEqual([v === 1 ? "100" : "101"])
  },
  {
    key: "oom_kill_disable",
    v1: "oom_kill_disable: true",
    v2: "oom_kill_disable: false",
    shows: (c, v) => expect(c.HostConfig.OomKillDisable).toBe(v === 1)
  },
  {
    key: "oom_score_adj",
    v1: "oom_score_adj: 100",
    v2: "oom_score_adj: 200",
    shows: (c, v) => expect(c.HostConfig.OomScoreAdj).toBe(v * 100)
  },
  {
    key: "mem_swappiness",
    v1: "mem_swappiness: 10",
    v2: "mem_swappiness: 20",
    shows: (c, v) => expect(c.HostConfig.MemorySwappiness).toBe(v * 10)
  },
  {
    key: "memswap_limit",
    v1: "mem_limit: 64m\n    memswap_limit: 128m",
    v2: "mem_limit: 64m\n    memswap_limit: 256m",
    shows: (c, v) => expect(c.HostConfig.MemorySwap).toBe(v * 134217728)
  },
  {
    key: "cpu_shares",
    v1: "cpu_shares: 512",
    v2: "cpu_shares: 256",
    shows: (c, v) => expect(c.HostConfig.CpuShares).toBe(1024 / 2 ** v)
  },
  {
    key: "cpu_quota",
    v1: "cpu_quota: 50000",
    v2: "cpu_quota: 25000",
    shows: (c, v) => expect(c.HostConfig.CpuQuota).toBe(100000 / 2 ** v)
  },
  {
    key: "cpu_period",
    v1: "cpu_period: 100000",
    v2: "cpu_period: 50000",
    shows: (c, v) => expect(c.HostConfig.CpuPeriod).toBe(200000 / 2 ** v)
  },
  {
    key: "cpuset",
    v1: "cpuset: '0'",
    v2: "cpuset: 0-1",
    shows: (c, v) => expect(c.HostConfig.CpusetCpus).toBe(v === 1 ? "0" : "0-1")
  },
  { key: "cpu_count", v1: "cpu_count: 1", v2: "cpu_count: 2", shows: (c, v) => expect(c.HostConfig.CpuCount).toBe(v) },
  {
    key: "devices",
    v1: "devices: ['/dev/null:/dev/mynull']",
    v2: "devices: [{ source: /dev/null, target: /dev/mynull, permissions: r }]",
    shows: (c, v) =>
      expect(c.HostConfig.Devices).toEqual([
        { PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: v === 1 ? "rwm" : "r" }
      ])
  },
  {
    key: "device_cgroup_rules",
    v1: "device_cgroup_rules: ['c 1:3 mr']",
    v2: "device_cgroup_rules: ['c 1:5 mr']",
    shows: (c, v) => expect(c.HostConfig.DeviceCgroupRules).toEqual([v === 1 ? "c 1:3 mr" : "c 1:5 mr"])
  },
  {
    key: "cgroup",
    v1: "cgroup: private",
    v2: "cgroup: host",
    shows: (c, v) => expect(c.HostConfig.CgroupnsMode).toBe(v === 1 ? "private" : "host")
  },
  {
    key: "cgroup_parent",
    v1: "cgroup_parent: /moor-e2e",
    v2: "cgroup_parent: /moor-e2e/options",
    shows: (c, v) => expect(c.HostConfig.CgroupParent).toBe(v === 1 ? "/moor-e2e" : "/moor-e2e/options")
  },
  {
    key: "runtime",
    v1: "runtime: runc",
    v2: "runtime: io.containerd.runc.v2",
    shows: (c, v) => expect(c.HostConfig.Runtime).toBe(v === 1 ? "runc" : "io.containerd.runc.v2")
  },
  {
    key: "blkio_config",
    v1: `blkio_config: { device_read_bps: [{ path: ${disk}, rate: 1mb }] }`,
    v2: `blkio_config: { device_read_bps: [{ path: ${disk}, rate: 2mb }] }`,
    shows: (c, v) => expect(c.HostConfig.BlkioDeviceReadBps).toEqual([{ Path: disk, Rate: v * 1048576 }])
  },
  {
    key: "uts",
    v1: "uts: host",
    v2: "uts: ''",
    shows: (c, v) => expect(c.HostConfig.UTSMode).toBe(v === 1 ? "host" : "")
  },
  {
    key: "userns_mode",
    v1: "userns_mode: host",
    v2: "userns_mode: ''",
    shows: (c, v) => expect(c.HostConfig.UsernsMode).toBe(v === 1 ? "host" : "")
  },
  {
    key: "use_api_socket",
    v1: "use_api_socket: true",
    v2: "use_api_socket: false",
    shows: (c, v) =>
      expect(c.HostConfig.Binds ?? []).toEqual(v === 1 ? ["/var/run/docker.sock:/var/run/docker.sock"] : [])
  }
]

/** Keys this engine accepts at create but cannot run in this sandbox: created, inspected, not started. */
const createOnly: ReadonlyArray<KeyCase> = [
  {
    key: "privileged",
    v1: "privileged: true",
    v2: "privileged: false",
    shows: (c, v) => expect(c.HostConfig.Privileged).toBe(v === 1)
  },
  {
    key: "cpu_rt_runtime",
    v1: "cpu_rt_period: 1000000\n    cpu_rt_runtime: 950ms",
    v2: "cpu_rt_period: 1000000\n    cpu_rt_runtime: 900ms",
    shows: (c, v) =>
      expect([c.HostConfig.CpuRealtimePeriod, c.HostConfig.CpuRealtimeRuntime]).toEqual([1000000, 1000000 - 50000 * v])
  },
  {
    key: "gpus",
    v1: "gpus: all",
    v2: "gpus: [{ driver: nvidia, device_ids: ['0'] }]",
    shows: (c, v) =>
      expect(c.HostConfig.DeviceRequests).toContainEqual(
        v === 1
          ? { Driver: "", Count: -1, DeviceIDs: [], Capabilities: [["gpu"]], Options: {} }
          : { Driver: "nvidia", Count: 0, DeviceIDs: ["0"], Capabilities: [["gpu"]], Options: {} }
      )
  },
  {
    key: "deploy.resources.reservations.devices",
    v1: "deploy: { resources: { reservations: { devices: [{ capabilities: [tpu], count: 1 }] } } }",
    v2: "deploy: { resources: { reservations: { devices: [{ capabilities: [tpu], count: 2 }] } } }",
    shows: (c, v) =>
      expect(c.HostConfig.DeviceRequests).toContainEqual({
        Driver: "",
        Count: v,
        DeviceIDs: [],
        Capabilities: [["tpu"]],
        Options: {}
      })
  }
]

for (const engine of ENGINES) {
  describe(`Compose engine settings on ${engine.name}`, () => {
    const docker = new Dockerode({ socketPath: new URL(engine.endpoint).pathname })
    const scope = `test-opt-${hex(4)}`
    const root = mkdtempSync(join(tmpdir(), "moor-options-"))
    const env = cliEnv(`sqlite:${join(root, "state.db")}`)
    const supported = (k: KeyCase) =>
      OPTION_MIN_API[k.key] === undefined || apiAtLeast(engine.api, OPTION_MIN_API[k.key]!)

    /** Writes app `app` with db and web (web's keys at `version`), the spec's moor.yaml, and a label file. */
    const writeApp = (app: string, cases: ReadonlyArray<KeyCase>, version: 1 | 2, db = "") => {
      writeFileSync(join(root, "moor.yaml"), moorYaml({ scope, hosts: [{ name: "local", engine: engine.endpoint }] }))
      mkdirSync(join(root, app), { recursive: true })
      const lines = cases.map((k) => (version === 1 ? k.v1 : k.v2).replaceAll("{app}", app))
      writeFileSync(
        join(root, app, "compose.yaml"),
        `services:\n  db:\n    image: moor-fixture/app:1\n${db}  web:\n    image: moor-fixture/app:1\n${lines.map((l) => `    ${l}\n`).join("")}`
      )
    }
    const inspect = async (name: string) => (await docker.getContainer(name).inspect()) as unknown as Inspect
    const planJson = async () => {
      const r = await moor(env, "plan", root, "--json")
      expect(r.stderr).toBe("")
      return JSON.parse(r.stdout) as {
        actions: Array<{ _tag: string; service?: string; changes?: Array<string>; container?: ContainerConfig }>
      }
    }
    const apply = async () => {
      const r = await moor(env, "apply", root)
      expect(r.stderr).toBe("")
      expect(r.code, r.stdout).toBe(0)
    }
    const noChanges = async () => {
      const r = await moor(env, "plan", root, "--detailed-exitcode")
      expect(r.code, r.stdout).toBe(0)
    }
    const replacedFor = async (cases: ReadonlyArray<KeyCase>) => {
      const recreate = (await planJson()).actions.find((a) => a._tag === "recreate" && a.service === "web")
      for (const k of cases)
        expect(recreate?.changes?.join(", ")).toMatch(
          new RegExp(`(^|, )${k.key.replaceAll(".", "\\.")} (changed|removed)`)
        )
    }

    beforeAll(() => requireFixtures(engine.endpoint === testEngineCurrent.endpoint ? testEngineCurrent : testEngineA))
    afterAll(() => cleanupEngine(docker, scope))

    it.each([
      ["names, links and namespaces", () => naming([mac("01"), mac("02")]), "    ipc: shareable\n"],
      ["kernel settings, limits, devices and logging", () => limits(blockDevice()), ""]
    ] as const)(
      "%s: apply shows them, a change replaces naming each key, a second plan is empty",
      async (_, make, db) => {
        const cases = make().filter(supported)
        const app = `o${hex(3)}`
        writeApp(app, cases, 1, db)
        await apply()
        const v1 = await inspect(`${app}-web-1`)
        for (const k of cases) k.shows(v1, 1, { app })
        await noChanges()
        writeApp(app, cases, 2, db)
        await replacedFor(cases)
        await apply()
        const v2 = await inspect(`${app}-web-1`)
        for (const k of cases) k.shows(v2, 2, { app })
        await noChanges()
      }
    )

    it("label_file: the file's labels are on the container; changing the file replaces it", async () => {
      const app = `o${hex(3)}`
      writeApp(
        app,
        [{ key: "label_file", v1: "label_file: web.labels", v2: "label_file: web.labels", shows: () => {} }],
        1
      )
      writeFileSync(join(root, app, "web.labels"), "com.example.team=one\n")
      await apply()
      expect((await inspect(`${app}-web-1`)).Config.Labels["com.example.team"]).toBe("one")
      await noChanges()
      writeFileSync(join(root, app, "web.labels"), "com.example.team=two\n")
      const recreate = (await planJson()).actions.find((a) => a._tag === "recreate" && a.service === "web")
      expect(recreate?.changes).toEqual(["labels changed", "file web.labels changed"])
      await apply()
      expect((await inspect(`${app}-web-1`)).Config.Labels["com.example.team"]).toBe("two")
      await noChanges()
    })

    it("privileged, real-time CPU and device requests: the engine takes the plan's create as asked; a change names each key", async () => {
      const app = `o${hex(3)}`
      const live = await Effect.runPromise(DockerLive.make([{ name: "local", endpoint: engine.endpoint }]))
      const createdFrom = async (version: 1 | 2) => {
        writeApp(app, createOnly, version)
        const create = (await planJson()).actions.find(
          (a) => (a._tag === "create" || a._tag === "recreate") && a.service === "web"
        )
        const config = create?.container
        if (config === undefined) throw new Error("no create for web in the plan")
        const name = `${app}-web-1`
        await docker
          .getContainer(name)
          .remove({ force: true })
          .catch(() => undefined)
        await Effect.runPromise(live.createContainer("local", { ...config, name }))
        return inspect(name)
      }
      const v1 = await createdFrom(1)
      for (const k of createOnly) k.shows(v1, 1, { app })
      writeApp(app, createOnly, 2)
      await replacedFor(createOnly)
      const v2 = await createdFrom(2)
      for (const k of createOnly) k.shows(v2, 2, { app })
    })
  })
}
