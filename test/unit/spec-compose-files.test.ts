/**
 * An app's Compose files as Compose assembles them: the override file, extends, include, !reset and
 * !override, profiles, and which file is taken when there are several.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { loadSpec } from "../../adapters/spec/load.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"
import { MemorySpecFs } from "../../adapters/spec/spec-fs-memory.ts"
import type { LoadedSpec } from "../../adapters/spec/spec-types.ts"

const load = (
  files: Record<string, string>,
  options: { env?: Record<string, string>; profiles?: Array<string> } = {}
) => {
  const fs = new MemorySpecFs()
  for (const [path, text] of Object.entries(files)) fs.file(`/spec/${path}`, text)
  const loaded = loadSpec("/spec", {
    fs,
    env: options.env ?? {},
    ...(options.profiles === undefined ? {} : { profiles: options.profiles })
  })
  if (Result.isFailure(loaded)) throw new Error(loaded.failure.message)
  return loaded.success
}
const service = (spec: LoadedSpec, app: string, name: string) => {
  const found = spec.input.apps.find((a) => (a as { name: string }).name === app) as
    { services: Record<string, Record<string, unknown>> } | undefined
  return found?.services[name]
}
const problems = (spec: LoadedSpec) => spec.problems.map(formatProblem)

describe("the override file", () => {
  it("compose.override.yaml merges onto compose.yaml with Compose's rules", () => {
    const spec = load({
      "web/compose.yaml": `
services:
  web:
    image: nginx:1
    command: ["nginx", "-g", "daemon off;"]
    environment: { A: "1", B: "2" }
    ports: ["8080:80"]
    labels: [x=1]
`,
      "web/compose.override.yaml": `
services:
  web:
    image: nginx:2
    command: ["nginx", "-T"]
    environment: [B=3, C=4]
    ports: ["8080:80", "8443:443"]
`
    })
    expect(problems(spec)).toEqual([])
    const web = service(spec, "web", "web")
    expect(web?.image).toBe("nginx:2")
    expect(web?.command).toEqual(["nginx", "-T"])
    expect(web?.environment).toEqual({ A: "1", B: "3", C: "4" })
    expect((web?.ports as Array<{ published?: number }>).map((p) => p.published)).toEqual([8080, 8443])
    expect(web?.labels).toEqual({ x: "1" })
  })

  it("!reset removes what the base file set; !override replaces it instead of merging", () => {
    const spec = load({
      "web/compose.yaml": "services:\n  web:\n    image: x\n    ports: ['8080:80']\n    environment: { A: '1' }\n",
      "web/compose.override.yml": "services:\n  web:\n    ports: !reset []\n    environment: !override { B: '2' }\n"
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "web", "web")?.ports).toBeUndefined()
    expect(service(spec, "web", "web")?.environment).toEqual({ B: "2" })
  })

  it("an override file without its compose.yaml is an app left alone, not no app (its containers are not taken for gone)", () => {
    const spec = load({
      "web/compose.override.yaml": "services:\n  web:\n    image: nginx:2\n",
      "db/compose.yaml": "services:\n  db:\n    image: postgres:16\n"
    })
    expect(spec.input.apps.map((a) => (a as { name: string }).name)).toEqual(["db"])
    expect(spec.invalid.map((a) => a.name)).toEqual(["web"])
    expect(spec.unreadable.map(formatProblem)).toEqual([
      "/spec/web/compose.override.yaml: compose.override.yaml is an override file, merged on top of a compose.yaml, and this directory has none: add the compose.yaml it overrides, or rename compose.override.yaml to compose.yaml"
    ])
  })
})

describe("extends", () => {
  it("builds a service on one in the same file, the extending service's keys winning", () => {
    const spec = load({
      "app/compose.yaml": `
services:
  base:
    image: x
    environment: [A=1]
    restart: always
  worker:
    extends: base
    environment: [B=2]
    command: work
`
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "app", "worker")).toMatchObject({
      image: "x",
      restart: "always",
      command: ["work"],
      environment: { A: "1", B: "2" }
    })
  })

  it("builds on a service of another file, whose relative paths stay relative to that file", () => {
    const spec = load({
      "app/compose.yaml": "services:\n  web:\n    extends: { file: ../common/base.yaml, service: httpd }\n",
      "common/base.yaml": "services:\n  httpd:\n    image: httpd:2\n    volumes: ['./conf:/etc/httpd:ro']\n"
    })
    expect(problems(spec)).toEqual([])
    const mounts = service(spec, "app", "web")?.mounts as Array<{ source: string }>
    expect(mounts[0]?.source).toBe("/spec/common/conf")
  })

  it("reports a cycle and a service that is not there, at the extends line", () => {
    const cycle = load({
      "app/compose.yaml": "services:\n  a: { image: x, extends: b }\n  b: { image: x, extends: a }\n"
    })
    expect(problems(cycle)[0]).toMatch(/^\/spec\/app\/compose.yaml:\d:\d+: services\.[ab]\.extends: extends cycle: /)
    const missing = load({ "app/compose.yaml": "services:\n  a: { image: x, extends: nope }\n" })
    expect(problems(missing)).toEqual([
      '/spec/app/compose.yaml:2:27: services.a.extends: service "nope" is not defined in /spec/app/compose.yaml (services: a): name one of these'
    ])
  })
})

describe("include", () => {
  it("imports another project's services, interpolated with its own .env, its paths its own", () => {
    const spec = load({
      "shop/compose.yaml":
        "include:\n  - ../shared/db/compose.yaml\nservices:\n  web: { image: web:1, depends_on: [db] }\n",
      "shared/db/compose.yaml":
        "services:\n  db:\n    image: postgres:${PG_VERSION}\n    volumes: ['./init:/docker-entrypoint-initdb.d:ro']\n",
      "shared/db/.env": "PG_VERSION=16\n"
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "shop", "db")?.image).toBe("postgres:16")
    expect((service(spec, "shop", "db")?.mounts as Array<{ source: string }>)[0]?.source).toBe("/spec/shared/db/init")
    expect(service(spec, "shop", "web")?.dependsOn).toEqual({ db: { condition: "service_started" } })
  })

  it("takes env_file and project_directory; the including file's definitions win over imported ones", () => {
    const spec = load({
      "shop/compose.yaml": `
include:
  - path: ../lib/cache.yaml
    project_directory: ../lib/cache
    env_file: ../lib/cache.env
services:
  cache: { image: redis:override }
`,
      "lib/cache.yaml": "services:\n  cache:\n    image: redis:${TAG}\n    volumes: ['./data:/data']\n",
      "lib/cache.env": "TAG=7\n"
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "shop", "cache")?.image).toBe("redis:override")
    expect((service(spec, "shop", "cache")?.mounts as Array<{ source: string }>)[0]?.source).toBe("/spec/lib/data")
  })

  it("reports a cycle of includes and a file outside the spec", () => {
    const cycle = load({
      "shop/compose.yaml": "include: [../lib/a.yaml]\nservices: { web: { image: x } }\n",
      "lib/a.yaml": "include: [b.yaml]\nservices: { a: { image: x } }\n",
      "lib/b.yaml": "include: [a.yaml]\nservices: { b: { image: x } }\n"
    })
    expect(problems(cycle)[0]).toContain("include cycle: ")
    const outside = load({ "shop/compose.yaml": "include: [/etc/compose.yaml]\nservices: { web: { image: x } }\n" })
    expect(problems(outside)[0]).toContain("/etc/compose.yaml is outside the spec directory")
  })
})

describe("profiles", () => {
  const files = {
    "app/compose.yaml": `
services:
  web: { image: x }
  debug: { image: x, profiles: [debug] }
  metrics: { image: x, profiles: [ops, monitoring] }
`
  }
  const names = (spec: LoadedSpec) =>
    Object.keys((spec.input.apps[0] as { services: Record<string, unknown> }).services).sort()

  it("leaves out the services of profiles not enabled; --profile, COMPOSE_PROFILES and moor.yaml enable them", () => {
    expect(names(load(files))).toEqual(["web"])
    expect(names(load(files, { profiles: ["debug"] }))).toEqual(["debug", "web"])
    expect(names(load(files, { env: { COMPOSE_PROFILES: "monitoring, debug" } }))).toEqual(["debug", "metrics", "web"])
    expect(names(load({ ...files, "moor.yaml": "profiles: [ops]\n" }))).toEqual(["metrics", "web"])
    expect(names(load(files, { profiles: ["*"] }))).toEqual(["debug", "metrics", "web"])
  })

  it("a dependency on a service left out is an error, unless it is optional", () => {
    const needs = load({
      "app/compose.yaml":
        "services:\n  web: { image: x, depends_on: [debug] }\n  debug: { image: x, profiles: [debug] }\n"
    })
    expect(problems(needs)[0]).toContain('service "debug" runs only with profile debug, which is not enabled')
    const optional = load({
      "app/compose.yaml":
        "services:\n  web: { image: x, depends_on: { debug: { condition: service_started, required: false } } }\n  debug: { image: x, profiles: [debug] }\n"
    })
    expect(problems(optional)).toEqual([])
  })
})

describe("moor config: what moor understood, as Compose", () => {
  it("prints the merged, interpolated app; environment values are digests unless they may be shown", () => {
    const spec = load(
      {
        "web/compose.yaml":
          "services:\n  web:\n    image: nginx:${TAG:-1}\n    environment: { PASSWORD: hunter2 }\n    labels: { price: '$$5' }\n",
        "web/compose.override.yaml": "services:\n  web:\n    ports: ['8080:80']\n"
      },
      { env: { TAG: "2" } }
    )
    const app = spec.files[0]
    expect(app?.effective?.({ showValues: false })).toEqual({
      name: "web",
      services: {
        web: {
          image: "nginx:2",
          environment: { PASSWORD: expect.stringMatching(/^digest:[0-9a-f]{12}$/) },
          labels: { price: "$$5" },
          ports: ["8080:80"]
        }
      }
    })
    expect(JSON.stringify(app?.effective?.({ showValues: false }))).not.toContain("hunter2")
    expect(app?.effective?.({ showValues: true })).toMatchObject({
      services: { web: { environment: { PASSWORD: "hunter2" } } }
    })
  })
})

describe("profiles enabled on some hosts", () => {
  it("a service whose profile a host enables runs on that host alone", () => {
    const spec = load({
      "moor.yaml":
        "hosts:\n  - { name: a, engine: 'unix:///a.sock' }\n  - { name: gpu, engine: 'unix:///gpu.sock', profiles: [cuda] }\n",
      "app/compose.yaml":
        "x-moor: { hosts: [a, gpu] }\nservices:\n  web: { image: x }\n  trainer: { image: y, profiles: [cuda] }\n"
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "app", "trainer")?.hosts).toEqual(["gpu"])
    expect(service(spec, "app", "web")?.hosts).toBeUndefined()
  })
})

describe("what the corpus found", () => {
  it("COMPOSE_PROFILES in the app's .env enables profiles, as Compose reads it there", () => {
    const spec = load({
      "app/compose.yaml": "services:\n  web: { image: x }\n  metrics: { image: y, profiles: [monitoring] }\n",
      "app/.env": "COMPOSE_PROFILES=monitoring\n"
    })
    expect(Object.keys((spec.input.apps[0] as { services: object }).services).sort()).toEqual(["metrics", "web"])
  })

  it("an environment entry set to !reset in the override file is removed", () => {
    const spec = load({
      "app/compose.yaml": "services:\n  web:\n    image: x\n    environment: { SMTP_HOST: mail, A: '1' }\n",
      "app/compose.override.yaml": "services:\n  web:\n    environment: { SMTP_HOST: !reset null }\n"
    })
    expect(service(spec, "app", "web")?.environment).toEqual({ A: "1" })
  })

  it("0.0.0.0 and [::] are two address families; a host port range and app_protocol are read", () => {
    const spec = load({
      "app/compose.yaml": `
services:
  web:
    image: x
    ports:
      - "0.0.0.0:80:80"
      - "[::]:80:80"
      - "8000-8005:8080"
      - { target: 9000, published: "9100-9102", app_protocol: http }
`
    })
    expect(problems(spec)).toEqual([])
    expect(service(spec, "app", "web")?.ports).toEqual([
      { hostIp: "0.0.0.0", published: 80, target: 80 },
      { hostIp: "::", published: 80, target: 80 },
      { published: 8000, publishedEnd: 8005, target: 8080 },
      { published: 9100, publishedEnd: 9102, target: 9000 }
    ])
    const clash = load({ "app/compose.yaml": "services:\n  web: { image: x, ports: ['80:80', '[::]:80:80'] }\n" })
    expect(problems(clash)[0]).toContain("host port [::]:80/tcp is already published by this service")
  })

  it("replicas may share a range of host ports as large as their number", () => {
    expect(
      problems(load({ "app/compose.yaml": "services:\n  web: { image: x, scale: 3, ports: ['8000-8002:80'] }\n" }))
    ).toEqual([])
    expect(
      problems(load({ "app/compose.yaml": "services:\n  web: { image: x, scale: 3, ports: ['8000-8001:80'] }\n" }))[0]
    ).toContain("the service runs 3 containers, which cannot all publish host port 8000-8001/tcp")
  })

  it("a container_name two services or two apps fix on one host is a problem at the second", () => {
    const within = load({
      "app/compose.yaml": "services:\n  a: { image: x, container_name: web }\n  b: { image: x, container_name: web }\n"
    })
    expect(problems(within)).toEqual([
      `/spec/app/compose.yaml:3:34: services.b.container_name: container_name "web" is also service a's (line 2): a name holds one container; give each its own`
    ])
    const across = load({
      "one/compose.yaml": "services:\n  a: { image: x, container_name: web }\n",
      "two/compose.yaml": "services:\n  b: { image: x, container_name: web }\n"
    })
    expect(problems(across)).toEqual([
      `/spec/two/compose.yaml:2:34: services.b.container_name: container_name "web" on host local is also app one's (/spec/one/compose.yaml:2:34): give each its own name, or place the apps on different hosts`
    ])
  })
})
