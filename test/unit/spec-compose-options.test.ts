/**
 * The engine-setting keys of a Compose service, read as compose-go reads them: every accepted form,
 * a clear error at the key's line and column for anything else, implicit depends_on for keys naming
 * a service, label files merged into labels, keys without effect said once.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseCompose } from "../../adapters/spec/compose-app.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"
import { decodeDesired } from "../../core/decode.ts"

const FILE = "shop/compose.yaml"

const parse = (text: string, files: Record<string, string> = {}) =>
  parseCompose({
    text,
    file: FILE,
    dir: "/srv/shop",
    dirName: "shop",
    env: {},
    hosts: [{ name: "local" }],
    readFile: (relative) => {
      const content = files[relative]
      return content === undefined
        ? Result.fail("missing: no such file or directory")
        : Result.succeed(new TextEncoder().encode(content))
    }
  })

/** A service `web` (plus `db`) with `body` under it, indented by the caller with 4 spaces. */
const compose = (body: string) =>
  `services:\n  db:\n    image: moor-fixture/app:1\n  web:\n    image: moor-fixture/app:1\n${body}`
const service = (body: string, files: Record<string, string> = {}): Record<string, unknown> => {
  const parsed = parse(compose(body), files)
  expect(parsed.problems.map(formatProblem)).toEqual([])
  return (parsed.app?.services as Record<string, Record<string, unknown>>).web ?? {}
}
const options = (body: string, files: Record<string, string> = {}) => service(body, files).options
const errors = (body: string, files: Record<string, string> = {}) =>
  parse(compose(body), files).problems.map(formatProblem)

describe("engine settings: every form the Compose Specification accepts", () => {
  it.each([
    ["expose: [9000, '9100-9101/udp', 80/TCP]", { expose: ["9000/tcp", "9100-9101/udp", "80/tcp"] }],
    ["external_links: [redis, 'cache:c']", { externalLinks: ["redis", "cache:c"] }],
    ["dns: 1.1.1.1", { dns: ["1.1.1.1"] }],
    ["dns: [1.1.1.1, '2001:4860:4860::8888']", { dns: ["1.1.1.1", "2001:4860:4860::8888"] }],
    ["dns_opt: [ndots:2, use-vc]", { dnsOpt: ["ndots:2", "use-vc"] }],
    ["dns_search: example.com", { dnsSearch: ["example.com"] }],
    ["dns_search: [a.example, b.example]", { dnsSearch: ["a.example", "b.example"] }],
    ["sysctls: { net.core.somaxconn: 1024 }", { sysctls: { "net.core.somaxconn": "1024" } }],
    ["sysctls: [net.core.somaxconn=1024]", { sysctls: { "net.core.somaxconn": "1024" } }],
    ["ulimits: { nofile: 1024 }", { ulimits: { nofile: { soft: 1024, hard: 1024 } } }],
    [
      "ulimits: { nofile: { soft: '1024', hard: 2048 }, memlock: -1 }",
      { ulimits: { memlock: { soft: -1, hard: -1 }, nofile: { soft: 1024, hard: 2048 } } }
    ],
    [
      "logging: { driver: json-file, options: { max-size: 10m, max-file: 3 } }",
      { logging: { driver: "json-file", options: { "max-file": "3", "max-size": "10m" } } }
    ],
    ["logging: { options: { max-size: 1m } }", { logging: { options: { "max-size": "1m" } } }],
    [
      "security_opt: [no-new-privileges, 'label:disable', apparmor=unconfined]",
      { securityOpt: ["no-new-privileges", "label:disable", "apparmor=unconfined"] }
    ],
    ["privileged: true", { privileged: true }],
    ["privileged: 'false'", { privileged: false }],
    ["devices: [/dev/ttyUSB0]", { devices: [{ source: "/dev/ttyUSB0", target: "/dev/ttyUSB0", permissions: "rwm" }] }],
    [
      "devices: ['/dev/null:/dev/mynull:r']",
      { devices: [{ source: "/dev/null", target: "/dev/mynull", permissions: "r" }] }
    ],
    [
      "devices: [{ source: /dev/null, target: /dev/mynull, permissions: rw }]",
      { devices: [{ source: "/dev/null", target: "/dev/mynull", permissions: "rw" }] }
    ],
    [
      "devices: [vendor.com/gpu=all]",
      { devices: [{ source: "vendor.com/gpu=all", target: "vendor.com/gpu=all", permissions: "rwm" }] }
    ],
    ["device_cgroup_rules: ['c 1:3 mr', 'a *:* rwm']", { deviceCgroupRules: ["c 1:3 mr", "a *:* rwm"] }],
    ["group_add: [100, audio]", { groupAdd: ["100", "audio"] }],
    ["ipc: shareable", { ipc: "shareable" }],
    ["ipc: 'container:other'", { ipc: "container:other" }],
    ["pid: host", { pid: "host" }],
    ["uts: host", { uts: "host" }],
    ["userns_mode: host", { usernsMode: "host" }],
    ["cgroup: private", { cgroup: "private" }],
    ["cgroup_parent: /moor", { cgroupParent: "/moor" }],
    ["shm_size: 1gb", { shmSize: 1073741824 }],
    ["shm_size: 67108864", { shmSize: 67108864 }],
    ["tty: true\n    stdin_open: 'true'", { tty: true, stdinOpen: true }],
    ["mac_address: 02:42:ac:11:00:99", { macAddress: "02:42:ac:11:00:99" }],
    ["domainname: example.org", { domainname: "example.org" }],
    ["platform: linux/arm64/v8", { platform: "linux/arm64/v8" }],
    ["runtime: runc", { runtime: "runc" }],
    ["isolation: process", { isolation: "process" }],
    ["storage_opt: { size: 1G }", { storageOpt: { size: "1G" } }],
    ["oom_kill_disable: true\n    oom_score_adj: -500", { oomKillDisable: true, oomScoreAdj: -500 }],
    ["mem_swappiness: 60", { memSwappiness: 60 }],
    ["memswap_limit: 1g", { memswapLimit: 1073741824 }],
    ["memswap_limit: -1", { memswapLimit: -1 }],
    ["cpu_count: 2\n    cpu_percent: 50\n    cpu_shares: '512'", { cpuCount: 2, cpuPercent: 50, cpuShares: 512 }],
    ["cpu_quota: 50000\n    cpu_period: 100000", { cpuQuota: 50000, cpuPeriod: 100000 }],
    ["cpu_rt_period: 1400us\n    cpu_rt_runtime: 400ms", { cpuRtPeriod: 1400, cpuRtRuntime: 400000 }],
    ["cpu_rt_period: 11000\n    cpu_rt_runtime: '95000'", { cpuRtPeriod: 11000, cpuRtRuntime: 95000 }],
    ["cpuset: 0-1,3", { cpuset: "0-1,3" }],
    [
      "blkio_config: { weight: 300, weight_device: [{ path: /dev/sda, weight: 400 }], device_read_bps: [{ path: /dev/sda, rate: 12mb }], device_write_iops: [{ path: /dev/sda, rate: '30' }] }",
      {
        blkioConfig: {
          weight: 300,
          weightDevice: [{ path: "/dev/sda", weight: 400 }],
          deviceReadBps: [{ path: "/dev/sda", rate: 12582912 }],
          deviceWriteIops: [{ path: "/dev/sda", rate: 30 }]
        }
      }
    ],
    ["gpus: all", { gpus: [{ count: -1 }] }],
    [
      "gpus: [{ driver: nvidia, count: 2, capabilities: [compute] }, { device_ids: ['0'] }]",
      { gpus: [{ driver: "nvidia", count: 2, capabilities: ["compute"] }, { deviceIds: ["0"] }] }
    ],
    ["gpus: [{ count: all, options: { a: b } }]", { gpus: [{ count: -1, options: { a: "b" } }] }],
    ["annotations: { com.example.a: x }", { annotations: { "com.example.a": "x" } }],
    ["annotations: [com.example.a=x]", { annotations: { "com.example.a": "x" } }],
    ["volumes_from: ['container:legacy:ro']", { volumesFrom: ["container:legacy:ro"] }],
    ["credential_spec: { file: spec.json }", { credentialSpec: { file: "spec.json" } }],
    ["credential_spec: { registry: my-spec }", { credentialSpec: { registry: "my-spec" } }],
    ["use_api_socket: true", { useApiSocket: true }],
    [
      "deploy: { resources: { reservations: { devices: [{ capabilities: [gpu], driver: nvidia, count: all }] } } }",
      { reservedDevices: [{ capabilities: ["gpu"], driver: "nvidia", count: -1 }] }
    ]
  ])("%s", (yaml, expected) => {
    expect(options(`    ${yaml}\n`)).toEqual(expected)
  })

  it("mem_swappiness: 0 leaves the engine's default, as docker compose does", () => {
    expect(options("    mem_swappiness: 0\n")).toBeUndefined()
  })

  it("the service decodes in the core with its settings", () => {
    const parsed = parse(
      compose("    sysctls: { a.b: 1 }\n    ulimits: { nofile: 10 }\n    gpus: all\n    links: [db]\n")
    )
    const decoded = decodeDesired({ scope: "s", apps: [parsed.app] })
    expect(Result.isSuccess(decoded) ? decoded.success.apps[0]?.services.web?.options : decoded.failure).toEqual({
      gpus: [{ count: -1 }],
      links: ["db"],
      sysctls: { "a.b": "1" },
      ulimits: { nofile: { soft: 10, hard: 10 } }
    })
  })

  it("a seccomp profile file is read relative to the app and passed inline, as docker compose does", () => {
    expect(
      options("    security_opt: [seccomp=profiles/strict.json]\n", {
        "profiles/strict.json": '{ "defaultAction": "SCMP_ACT_ERRNO" }\n'
      })
    ).toEqual({
      securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ERRNO"}']
    })
  })
})

describe("keys naming a service depend on it", () => {
  it("links, volumes_from, ipc and pid add depends_on (service_started); an explicit entry wins", () => {
    const web = parse(
      "services:\n  a: { image: x }\n  b: { image: x }\n  c: { image: x }\n  d: { image: x }\n  web:\n    image: x\n" +
        "    links: ['a:alias']\n    volumes_from: ['b:ro']\n    ipc: service:c\n    pid: service:d\n    depends_on: { d: { condition: service_healthy } }\n"
    ).app as { services: Record<string, Record<string, unknown>> }
    expect(web.services.web?.dependsOn).toEqual({
      a: { condition: "service_started" },
      b: { condition: "service_started" },
      c: { condition: "service_started" },
      d: { condition: "service_healthy" }
    })
  })

  it("container: references and external_links depend on nothing", () => {
    expect(
      service("    volumes_from: ['container:x']\n    ipc: container:y\n    external_links: [z]\n").dependsOn
    ).toBeUndefined()
  })

  it("a service that is not in the file is an error naming the services there", () => {
    expect(errors("    links: [cache]\n")).toEqual([
      `${FILE}:6:13: services.web.links[0]: service "cache" is not defined in this file (services: db, web): name one of these`
    ])
    expect(errors("    ipc: service:nope\n")).toEqual([
      `${FILE}:6:10: services.web.ipc: service "nope" is not defined in this file (services: db, web): name one of these`
    ])
    expect(errors("    volumes_from: [web]\n")).toEqual([
      `${FILE}:6:20: services.web.volumes_from[0]: volumes_from cannot name the service itself`
    ])
  })
})

describe("label_file", () => {
  const files = { "a.labels": "team=a\nshared=from-a\n", "b.labels": "shared=from-b\nfrom_b=${team}-b\n" }

  it("merges the files into labels (later files win, labels win over files) and puts their digests in the spec", () => {
    const web = service("    label_file: [a.labels, b.labels]\n    labels: { team: web }\n", files)
    expect(web.labels).toEqual({ from_b: "a-b", shared: "from-b", team: "web" })
    expect(Object.keys(web.configDigests as object)).toEqual(["a.labels", "b.labels"])
    expect(service("    label_file: a.labels\n", files).labels).toEqual({ shared: "from-a", team: "a" })
  })

  it("a missing file, a bad line and a moor.* label are errors at the entry", () => {
    expect(errors("    label_file: [gone.labels]\n")).toEqual([
      `${FILE}:6:18: services.web.label_file[0]: label file gone.labels does not exist (the path is relative to the app's directory): create it or remove it from label_file`
    ])
    expect(errors("    label_file: x.labels\n", { "x.labels": "ok=1\n!bad\n" })).toEqual([
      `${FILE}:6:17: services.web.label_file: label file x.labels, line 2: expected KEY=value: a line starts with a name (letters, digits, "_", ".", "-"), then "="`
    ])
    expect(errors("    label_file: x.labels\n", { "x.labels": "moor.app=x\n" })[0]).toContain(
      "moor.app is in moor's own label namespace"
    )
  })
})

describe("wrong forms: what, where and what to do", () => {
  it.each([
    [
      "expose: [70000]",
      '6:14: services.web.expose[0]: "70000" is not PORT, PORT/PROTOCOL or START-END/PROTOCOL (e.g. 8080, 9000-9010/udp)'
    ],
    ["expose: 80", "6:13: services.web.expose: expected a list, got number 80"],
    [
      "dns: [example.com]",
      '6:11: services.web.dns[0]: "example.com" is not an IP address (a DNS server is given by its address)'
    ],
    [
      "sysctls: [net.core.somaxconn]",
      "6:15: services.web.sysctls[0]: net.core.somaxconn needs a value: write net.core.somaxconn=VALUE (a sysctl)"
    ],
    [
      "ulimits: { files: 10 }",
      '6:16: services.web.ulimits.files: "files" is not a ulimit: use one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack'
    ],
    [
      "ulimits: { nofile: { soft: 10 } }",
      "6:24: services.web.ulimits.nofile: a ulimit mapping needs both soft and hard (or write one number for both)"
    ],
    [
      "ulimits: { nofile: { soft: 20, hard: 10 } }",
      "6:24: services.web.ulimits.nofile: the soft limit (20) is above the hard limit (10)"
    ],
    ["logging: { driver: local, format: x }", '6:31: services.web.logging.format: unknown key "logging.format"'],
    [
      "security_opt: [nonsense]",
      '6:20: services.web.security_opt[0]: "nonsense" is not a security option: write KEY=VALUE (e.g. no-new-privileges=true, seccomp=unconfined, apparmor=PROFILE)'
    ],
    [
      "security_opt: [seccomp=gone.json]",
      "6:20: services.web.security_opt[0]: seccomp profile gone.json does not exist (the path is relative to the app's directory)"
    ],
    ["privileged: maybe", '6:17: services.web.privileged: expected true or false, got the string "maybe"'],
    [
      "devices: ['a:b:c:d']",
      '6:15: services.web.devices[0]: "a:b:c:d" is not SOURCE[:TARGET[:PERMISSIONS]]: use the long syntax'
    ],
    [
      "devices: [dev/null]",
      "6:15: services.web.devices[0]: a device is an absolute path (e.g. /dev/ttyUSB0) or a CDI name (vendor.com/class=name)"
    ],
    [
      "devices: ['/dev/null:/dev/null:x']",
      '6:15: services.web.devices[0]: permissions "x" are not made of r, w and m (e.g. rwm)'
    ],
    [
      "devices: [{ target: /dev/x }]",
      "6:15: services.web.devices[0]: a device needs a source (the device on the host)"
    ],
    [
      "device_cgroup_rules: ['c 1:3']",
      '6:27: services.web.device_cgroup_rules[0]: "c 1:3" is not a device cgroup rule: write TYPE MAJOR:MINOR ACCESS (e.g. "c 1:3 mr", "a *:* rwm")'
    ],
    [
      "ipc: everything",
      '6:10: services.web.ipc: ipc "everything" is not one of host, private, shareable, none, service:NAME, container:NAME'
    ],
    ["pid: private", '6:10: services.web.pid: pid "private" is not one of host, service:NAME, container:NAME'],
    [
      "uts: private",
      '6:10: services.web.uts: "private" is not one of host: the engine shares the host\'s UTS namespace or gives the container its own'
    ],
    [
      "cgroup: shared",
      "6:13: services.web.cgroup: \"shared\" is not one of host, private: the container's cgroup namespace is the host's or its own"
    ],
    [
      "shm_size: lots",
      '6:15: services.web.shm_size: "lots" is not a size: expected e.g. 512m, 1g, 64k or a number of bytes'
    ],
    ["mac_address: 02:42", '6:18: services.web.mac_address: "02:42" is not a MAC address (e.g. 02:42:ac:11:00:02)'],
    [
      "platform: 'linux amd64'",
      '6:15: services.web.platform: "linux amd64" is not a platform: write OS[/ARCH[/VARIANT]] (e.g. linux/amd64, linux/arm64/v8)'
    ],
    [
      "isolation: vm",
      '6:16: services.web.isolation: "vm" is not one of default, process, hyperv: the isolation technologies of the engine'
    ],
    ["oom_score_adj: 2000", "6:20: services.web.oom_score_adj: must be between -1000 and 1000, got 2000"],
    ["mem_swappiness: 101", "6:21: services.web.mem_swappiness: must be between 0 and 100, got 101"],
    ["cpu_shares: 1.5", "6:17: services.web.cpu_shares: expected a whole number, got number 1.5"],
    [
      "cpu_rt_runtime: 10 seconds",
      '6:21: services.web.cpu_rt_runtime: "10 seconds" is not a duration: expected e.g. 30s, 1m30s, 500ms (units: ns, us, ms, s, m, h)'
    ],
    ["cpuset: all", '6:13: services.web.cpuset: "all" is not a CPU list (e.g. 0-3 or 0,2)'],
    [
      "blkio_config: { weight: 5 }",
      "6:29: services.web.blkio_config.weight: a weight is 0 or between 10 and 1000, got 5"
    ],
    [
      "blkio_config: { device_read_bps: [{ path: /dev/sda }] }",
      "6:39: services.web.blkio_config.device_read_bps[0]: an entry needs path and rate"
    ],
    ["gpus: some", '6:11: services.web.gpus: gpus is "all" or a list of devices, got "some"'],
    [
      "gpus: [{ count: 1, device_ids: ['0'] }]",
      "6:12: services.web.gpus[0]: count and device_ids cannot both be set: keep one"
    ],
    ["gpus: [{ count: many }]", '6:21: services.web.gpus[0].count: count "many" is neither "all" nor a number'],
    [
      "volumes_from: ['db:rx']",
      '6:20: services.web.volumes_from[0]: "db:rx" is not SERVICE[:ro|rw] or container:NAME[:ro|rw]'
    ],
    [
      "credential_spec: { config: x }",
      '6:24: services.web.credential_spec.config: moor does not support "credential_spec.config": a credential spec from a config needs Swarm: use file or registry (see docs/compose-support.md)'
    ],
    [
      "credential_spec: { file: a, registry: b }",
      "6:22: services.web.credential_spec: give one of file and registry, not both"
    ],
    ["use_api_socket: 1", "6:21: services.web.use_api_socket: expected true or false, got number 1"],
    [
      "deploy: { resources: { reservations: { devices: [{ count: 1 }] } } }",
      "6:54: services.web.deploy.resources.reservations.devices[0]: a device reservation needs capabilities (e.g. [gpu])"
    ],
    [
      "deploy: { resources: { reservations: { cpus: '0.5' } } }",
      '6:44: services.web.deploy.resources.reservations.cpus: moor does not support "deploy.resources.reservations.cpus": a CPU reservation is a Swarm setting one engine cannot express: use deploy.resources.limits.cpus, or cpu_shares to weigh CPU time (see docs/compose-support.md)'
    ],
    [
      "deploy: { resources: { reservations: { generic_resources: [] } } }",
      '6:44: services.web.deploy.resources.reservations.generic_resources: moor does not support "deploy.resources.reservations.generic_resources": generic resources are a Swarm setting one engine cannot express: use deploy.resources.reservations.devices or devices (see docs/compose-support.md)'
    ],
    [
      "deploy: { resources: { limits: { generic_resources: [] } } }",
      '6:38: services.web.deploy.resources.limits.generic_resources: moor does not support "deploy.resources.limits.generic_resources": generic resources are a Swarm setting one engine cannot express: use deploy.resources.reservations.devices or devices (see docs/compose-support.md)'
    ],
    [
      "models: [llm]",
      '6:5: services.web.models: moor does not support "models": needs Docker Model Runner, absent on a plain engine: run the model as a service (see docs/compose-support.md)'
    ],
    [
      "provider: { type: x }",
      '6:5: services.web.provider: moor does not support "provider": run by a Compose plugin, not by the engine: run it as a service with an image (see docs/compose-support.md)'
    ]
  ])("%s", (yaml, message) => {
    expect(errors(`    ${yaml}\n`)).toEqual([`${FILE}:${message}`])
  })
})

describe("keys without effect", () => {
  it("attach and develop are accepted with one warning per key and file, however many services use them", () => {
    const parsed = parse(
      "services:\n  a:\n    image: x\n    attach: false\n    develop: { watch: [] }\n  b:\n    image: x\n    attach: true\n"
    )
    expect(parsed.problems).toEqual([])
    expect(parsed.warnings.map(formatProblem)).toEqual([
      `${FILE}:4:5: services.a.attach: attach has no effect in moor (it attaches to no container's output); it is ignored`,
      `${FILE}:5:5: services.a.develop: develop (compose watch) has no effect in moor, which runs images and syncs no files; it is ignored`
    ])
    expect((parsed.app?.services as Record<string, object>).a).toEqual({ image: "x" })
  })
})
